import type { JobRecord, ModelRecord, ProjectRecord } from '@impartial/shared';
import { filterAsync } from '../async-filter.js';
import { notFound } from '../errors.js';
import type { StoredImage } from '../store/store.js';
import type { Permission } from './access.js';
import type { Actor } from './actor.js';
import type { ServiceContext } from './context.js';

/** Looks a record up and checks the actor's permission on its project, in one call: how every service begins. */
export class Scope {
  constructor(private readonly ctx: ServiceContext) {}

  async project(actor: Actor, id: string, need: Permission): Promise<ProjectRecord> {
    const project = await this.ctx.store.projects.get(id);
    await this.ctx.access.check(actor, project, need);
    return project;
  }

  async image(actor: Actor, id: string, need: Permission): Promise<StoredImage> {
    const image = await this.ctx.store.images.get(id);
    await this.within(actor, image.project, need, `image ${id}`);
    return image;
  }

  async model(actor: Actor, id: string, need: Permission): Promise<ModelRecord> {
    const model = await this.ctx.store.models.get(id);
    await this.within(actor, model.project, need, `model version ${id}`);
    return model;
  }

  async job(actor: Actor, id: string, need: Permission): Promise<JobRecord> {
    const job = await this.ctx.store.jobs.get(id);
    await this.within(actor, job.project, need, `job ${id}`);
    return job;
  }

  /** A record of a project the actor may not see answers as missing under its own name, not the project's. */
  private async within(actor: Actor, projectId: string, need: Permission, what: string): Promise<void> {
    const project = await this.ctx.store.projects.get(projectId);
    if (!(await this.ctx.access.allows(actor, project, 'read'))) throw notFound(what);
    await this.ctx.access.check(actor, project, need);
  }

  /** The projects the actor may see. */
  async projects(actor: Actor): Promise<ProjectRecord[]> {
    return filterAsync(await this.ctx.store.projects.list(), (p) => this.ctx.access.allows(actor, p, 'read'));
  }
}
