import type { ImageRecord, JobRecord, ModelRecord, ProjectRecord } from '@impartial/shared';
import { badRequest, forbidden } from '../errors.js';
import { publicImage } from '../store/store.js';
import type { Actor } from './actor.js';
import type { ServiceContext } from './context.js';
import type { Scope } from './scope.js';

export interface ProjectDetail extends ProjectRecord {
  images: ImageRecord[];
  models: ModelRecord[];
  jobs: JobRecord[];
}

/** Projects: listing, making, and which model version is current. */
export class ProjectService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly scope: Scope,
  ) {}

  list(actor: Actor): Promise<ProjectRecord[]> {
    return this.scope.projects(actor);
  }

  get(actor: Actor, id: string): Promise<ProjectRecord> {
    return this.scope.project(actor, id, 'read');
  }

  async detail(actor: Actor, id: string): Promise<ProjectDetail> {
    const p = await this.get(actor, id);
    const { store } = this.ctx;
    return {
      ...p,
      images: (await store.images.list(p.id)).map(publicImage),
      models: await store.models.list(p.id),
      jobs: await store.jobs.list(p.id),
    };
  }

  /** A new project; an account's belongs to it and is shared in its home group. */
  async create(actor: Actor, name: string, id?: string): Promise<ProjectRecord> {
    const account = actor.account;
    if (!account) return this.ctx.store.projects.create(name, id);
    if (account.readOnly) throw forbidden('a read-only token may not make projects');
    const owner = await this.ctx.store.users.get(account.id);
    return this.ctx.store.projects.create(name, id, { owner: owner.id, group: owner.homeGroup });
  }

  /** The project with this id, made (with this name) when it does not exist yet. */
  async ensure(actor: Actor, id: string, name: string): Promise<ProjectRecord> {
    const found = await this.ctx.store.projects.find(id);
    if (found) {
      await this.ctx.access.check(actor, found, 'read');
      return found;
    }
    return this.create(actor, name, id);
  }

  /** Makes a model version the project's current one (what predictions and fine-tuning use by default). */
  async setCurrentModel(actor: Actor, projectId: string, modelId: string): Promise<ProjectRecord> {
    const project = await this.scope.project(actor, projectId, 'write');
    const model = await this.scope.model(actor, modelId, 'read');
    if (model.project !== project.id) throw badRequest(`model ${model.id} belongs to project ${model.project}`);
    await this.ctx.store.projects.setCurrentModel(project.id, model.id);
    this.ctx.hub.toProject(project.id, { type: 'model', model, current: true });
    return this.ctx.store.projects.get(project.id);
  }
}
