import { newId, type ProjectRecord } from '@impartial/shared';
import { conflict, notFound } from '../../errors.js';
import type { Db } from '../db.js';
import { now } from './time.js';

interface ProjectRow {
  id: string;
  name: string;
  created: string;
  current_model: string | null;
  owner: string | null;
  grp: string | null;
}

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
  create(name: string, id = newId('p'), ownership?: { owner: string; group: string | null }): ProjectRecord {
    if (this.db.prepare('SELECT 1 FROM projects WHERE id = ?').get(id)) throw conflict(`project ${id} already exists`);
    this.db
      .prepare('INSERT INTO projects (id, name, created, owner, grp) VALUES (?, ?, ?, ?, ?)')
      .run(id, name, now(), ownership?.owner ?? null, ownership?.group ?? null);
    return this.get(id);
  }

  setGroup(id: string, group: string | null): void {
    this.db.prepare('UPDATE projects SET grp = ? WHERE id = ?').run(group, id);
  }

  list(): ProjectRecord[] {
    return (this.db.prepare('SELECT * FROM projects ORDER BY created').all() as ProjectRow[]).map(projectOf);
  }

  find(id: string): ProjectRecord | null {
    const r = this.db.prepare('SELECT * FROM projects WHERE id = ?').get(id) as ProjectRow | undefined;
    return r ? projectOf(r) : null;
  }

  get(id: string): ProjectRecord {
    const p = this.find(id);
    if (!p) throw notFound(`project ${id}`);
    return p;
  }

  setCurrentModel(project: string, model: string): void {
    this.db.prepare('UPDATE projects SET current_model = ? WHERE id = ?').run(model, project);
  }
}
