import type { ModelLineage, ModelRecord } from '@impartial/shared';
import { notFound } from '../../errors.js';
import type { Db } from '../database/open.js';

/** Model versions: never rewritten once added; a project's "current" one is a pointer in projects. */
export class ModelTable {
  constructor(private readonly db: Db) {}

  /** Adds a version, and makes it the project's current one in the same transaction when asked. */
  async add(record: ModelRecord, makeCurrent: boolean): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('models')
        .values({ id: record.id, project: record.project, record: JSON.stringify(record), created: record.created })
        .execute();
      if (makeCurrent)
        await trx.updateTable('projects').set({ current_model: record.id }).where('id', '=', record.project).execute();
    });
  }

  async list(project: string): Promise<ModelRecord[]> {
    const rows = await this.db
      .selectFrom('models')
      .select('record')
      .where('project', '=', project)
      .orderBy('created')
      .orderBy('id')
      .execute();
    return rows.map((r) => JSON.parse(r.record) as ModelRecord);
  }

  async find(id: string): Promise<ModelRecord | null> {
    const r = await this.db.selectFrom('models').select('record').where('id', '=', id).executeTakeFirst();
    return r ? (JSON.parse(r.record) as ModelRecord) : null;
  }

  async get(id: string): Promise<ModelRecord> {
    const model = await this.find(id);
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
