import { newId, type ProjectRecord } from '@impartial/shared';
import { conflict, notFound } from '../../errors.js';
import { type Db, isUniqueViolation } from '../database/open.js';
import type { ProjectsTable } from '../database/schema.js';
import { now } from './time.js';

type ProjectRow = ProjectsTable;

const projectOf = (r: ProjectRow): ProjectRecord => ({
  id: r.id,
  name: r.name,
  created: r.created,
  currentModel: r.current_model,
  ...(r.owner ? { owner: r.owner, group: r.grp } : {}),
});

/** Projects and their current model version. */
export class ProjectTable {
  constructor(private readonly db: Db) {}

  /** A project; on a multi-user bridge it belongs to an account and is shared in one of its groups. */
  async create(
    name: string,
    id = newId('p'),
    ownership?: { owner: string; group: string | null },
  ): Promise<ProjectRecord> {
    if (await this.find(id)) throw conflict(`project ${id} already exists`);
    try {
      await this.db
        .insertInto('projects')
        .values({ id, name, created: now(), owner: ownership?.owner ?? null, grp: ownership?.group ?? null })
        .execute();
    } catch (e) {
      // Another caller made it between the check and the insert.
      if (isUniqueViolation(e)) throw conflict(`project ${id} already exists`);
      throw e;
    }
    return this.get(id);
  }

  async setGroup(id: string, group: string | null): Promise<void> {
    await this.db.updateTable('projects').set({ grp: group }).where('id', '=', id).execute();
  }

  async list(): Promise<ProjectRecord[]> {
    const rows = await this.db.selectFrom('projects').selectAll().orderBy('created').execute();
    return rows.map(projectOf);
  }

  async find(id: string): Promise<ProjectRecord | null> {
    const r = await this.db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? projectOf(r) : null;
  }

  async get(id: string): Promise<ProjectRecord> {
    const p = await this.find(id);
    if (!p) throw notFound(`project ${id}`);
    return p;
  }

  async setCurrentModel(project: string, model: string): Promise<void> {
    await this.db.updateTable('projects').set({ current_model: model }).where('id', '=', project).execute();
  }
}
