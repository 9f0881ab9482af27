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

  async list(actor: Actor, projectId: string, limit?: number): Promise<JobRecord[]> {
    return this.ctx.store.jobs.list((await this.scope.project(actor, projectId, 'read')).id, limit);
  }

  async get(actor: Actor, id: string): Promise<JobRecord & { log: string }> {
    const job = await this.scope.job(actor, id, 'read');
    return { ...job, log: await this.ctx.store.jobs.log(job.id) };
  }

  /** Cancels a queued job at once, or asks a running one to stop (a training still saves what it learned). */
  async cancel(actor: Actor, id: string): Promise<JobRecord> {
    return this.ctx.jobs.cancel((await this.scope.job(actor, id, 'write')).id);
  }

  /** Jobs running now, on the projects the actor may see. */
  async active(actor: Actor): Promise<JobRecord[]> {
    const visible = new Set((await this.scope.projects(actor)).map((p) => p.id));
    return this.ctx.jobs.active().filter((j) => visible.has(j.project));
  }

  /** Hears every job message (progress, status, models, tiles), for transports that keep their own task records. */
  subscribe(listener: (message: ServerMessage) => void): () => void {
    return this.ctx.jobs.subscribe(listener);
  }
}
