import type { ModelLineage, ModelRecord } from '@impartial/shared';
import { notFound } from '../../errors.js';
import type { Db } from '../db.js';

/** Model versions: never rewritten once added; a project's "current" one is a pointer in projects. */
export class ModelTable {
  constructor(private readonly db: Db) {}

  /** Adds a version, and makes it the project's current one in the same transaction when asked. */
  add(record: ModelRecord, makeCurrent: boolean): void {
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO models (id, project, record, created) VALUES (?, ?, ?, ?)')
        .run(record.id, record.project, JSON.stringify(record), record.created);
      if (makeCurrent)
        this.db.prepare('UPDATE projects SET current_model = ? WHERE id = ?').run(record.id, record.project);
    })();
  }

  list(project: string): ModelRecord[] {
    const rows = this.db.prepare('SELECT record FROM models WHERE project = ? ORDER BY created, id').all(project);
    return (rows as Array<{ record: string }>).map((r) => JSON.parse(r.record) as ModelRecord);
  }

  find(id: string): ModelRecord | null {
    const r = this.db.prepare('SELECT record FROM models WHERE id = ?').get(id) as { record: string } | undefined;
    return r ? (JSON.parse(r.record) as ModelRecord) : null;
  }

  get(id: string): ModelRecord {
    const model = this.find(id);
    if (!model) throw notFound(`model ${id}`);
    return model;
  }
}

/** The record of a model version from the lineage saved with its weights (one place makes records). */
export function modelRecordOf(lineage: ModelLineage, project: string): ModelRecord {
  return {
    id: lineage.id,
    project,
    parent: lineage.parent,
    created: lineage.created,
    author: lineage.author,
    channels: lineage.channels,
    steps: lineage.steps,
    trainSeconds: lineage.trainSeconds,
    strokesHash: lineage.strokesHash ?? '',
    metrics: Object.fromEntries(Object.entries(lineage.metrics ?? {}).filter(([, v]) => Number.isFinite(v))),
    authors: lineage.authors ?? [lineage.author],
    ...(lineage.catalogue ? { catalogue: lineage.catalogue } : {}),
  };
}
