import type { JobRecord, ModelRecord, ProjectRecord } from '@impartial/shared';
import { notFound } from '../errors.js';
import type { StoredImage } from '../store/store.js';
import type { Permission } from './access.js';
import type { Actor } from './actor.js';
import type { ServiceContext } from './context.js';

/** Looks a record up and checks the actor's permission on its project, in one call: how every service begins. */
export class Scope {
  constructor(private readonly ctx: ServiceContext) {}

  project(actor: Actor, id: string, need: Permission): ProjectRecord {
    const project = this.ctx.store.projects.get(id);
    this.ctx.access.check(actor, project, need);
    return project;
  }

  image(actor: Actor, id: string, need: Permission): StoredImage {
    const image = this.ctx.store.images.get(id);
    this.within(actor, image.project, need, `image ${id}`);
    return image;
  }

  model(actor: Actor, id: string, need: Permission): ModelRecord {
    const model = this.ctx.store.models.get(id);
    this.within(actor, model.project, need, `model version ${id}`);
    return model;
  }

  job(actor: Actor, id: string, need: Permission): JobRecord {
    const job = this.ctx.store.jobs.get(id);
    this.within(actor, job.project, need, `job ${id}`);
    return job;
  }

  /** A record of a project the actor may not see answers as missing under its own name, not the project's. */
  private within(actor: Actor, projectId: string, need: Permission, what: string): void {
    const project = this.ctx.store.projects.get(projectId);
    if (!this.ctx.access.allows(actor, project, 'read')) throw notFound(what);
    this.ctx.access.check(actor, project, need);
  }

  /** The projects the actor may see. */
  projects(actor: Actor): ProjectRecord[] {
    return this.ctx.store.projects.list().filter((p) => this.ctx.access.allows(actor, p, 'read'));
  }
}
