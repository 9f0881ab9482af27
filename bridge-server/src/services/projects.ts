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

  list(actor: Actor): ProjectRecord[] {
    return this.scope.projects(actor);
  }

  get(actor: Actor, id: string): ProjectRecord {
    return this.scope.project(actor, id, 'read');
  }

  detail(actor: Actor, id: string): ProjectDetail {
    const p = this.get(actor, id);
    const { store } = this.ctx;
    return {
      ...p,
      images: store.images.list(p.id).map(publicImage),
      models: store.models.list(p.id),
      jobs: store.jobs.list(p.id),
    };
  }

  /** A new project; an account's belongs to it and is shared in its home group. */
  create(actor: Actor, name: string, id?: string): ProjectRecord {
    const account = actor.account;
    if (!account) return this.ctx.store.projects.create(name, id);
    if (account.readOnly) throw forbidden('a read-only token may not make projects');
    const owner = this.ctx.store.users.get(account.id);
    return this.ctx.store.projects.create(name, id, { owner: owner.id, group: owner.homeGroup });
  }

  /** The project with this id, made (with this name) when it does not exist yet. */
  ensure(actor: Actor, id: string, name: string): ProjectRecord {
    const found = this.ctx.store.projects.find(id);
    if (found) {
      this.ctx.access.check(actor, found, 'read');
      return found;
    }
    return this.create(actor, name, id);
  }

  /** Makes a model version the project's current one (what predictions and fine-tuning use by default). */
  setCurrentModel(actor: Actor, projectId: string, modelId: string): ProjectRecord {
    const project = this.scope.project(actor, projectId, 'write');
    const model = this.scope.model(actor, modelId, 'read');
    if (model.project !== project.id) throw badRequest(`model ${model.id} belongs to project ${model.project}`);
    this.ctx.store.projects.setCurrentModel(project.id, model.id);
    this.ctx.hub.toProject(project.id, { type: 'model', model, current: true });
    return this.ctx.store.projects.get(project.id);
  }
}
