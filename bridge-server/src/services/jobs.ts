import type { JobRecord, ServerMessage } from '@impartial/shared';
import type { Actor } from './actor.js';
import type { ServiceContext } from './context.js';
import type { Scope } from './scope.js';

/** Jobs of a project: listing, one with its log, cancelling. */
export class JobService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly scope: Scope,
  ) {}

  list(actor: Actor, projectId: string, limit?: number): JobRecord[] {
    return this.ctx.store.jobs.list(this.scope.project(actor, projectId, 'read').id, limit);
  }

  get(actor: Actor, id: string): JobRecord & { log: string } {
    const job = this.scope.job(actor, id, 'read');
    return { ...job, log: this.ctx.store.jobs.log(job.id) };
  }

  /** Cancels a queued job at once, or asks a running one to stop (a training still saves what it learned). */
  cancel(actor: Actor, id: string): JobRecord {
    return this.ctx.jobs.cancel(this.scope.job(actor, id, 'write').id);
  }

  /** Jobs running now, on the projects the actor may see. */
  active(actor: Actor): JobRecord[] {
    const visible = new Set(this.scope.projects(actor).map((p) => p.id));
    return this.ctx.jobs.active().filter((j) => visible.has(j.project));
  }

  /** Hears every job message (progress, status, models, tiles), for transports that keep their own task records. */
  subscribe(listener: (message: ServerMessage) => void): () => void {
    return this.ctx.jobs.subscribe(listener);
  }
}
