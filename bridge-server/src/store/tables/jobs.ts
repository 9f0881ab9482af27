import type { JobRecord, JobStatus } from '@impartial/shared';
import { sql, type UpdateObject } from 'kysely';
import { notFound } from '../../errors.js';
import { type Db, isUniqueViolation } from '../database/open.js';
import type { JobsTable, Schema } from '../database/schema.js';
import { now } from './time.js';

/** A row as stored, with its status narrowed to the job states. */
type JobRow = Omit<JobsTable, 'status'> & { status: JobStatus };

export interface JobUpdate {
  status?: JobStatus;
  progress?: Record<string, number>;
  error?: string | null;
  result?: Record<string, unknown>;
  /** Appended to the job's log. */
  log?: string;
}

const jobOf = (r: JobRow): JobRecord => ({
  id: r.id,
  project: r.project,
  kind: r.kind,
  status: r.status,
  image: r.image,
  created: r.created,
  updated: r.updated,
  progress: JSON.parse(r.progress) as Record<string, number>,
  error: r.error,
  result: r.result ? (JSON.parse(r.result) as Record<string, unknown>) : null,
  ...(r.author ? { author: r.author } : {}),
});

/** Training and inference jobs: status, progress, result and log; never left "running" by a dead process. */
export class JobTable {
  constructor(private readonly db: Db) {}

  async add(job: {
    id: string;
    project: string;
    kind: 'train' | 'infer';
    status: JobStatus;
    image: string | null;
    options: unknown;
    /** The account that asked for it (multi-user bridges). */
    author?: string | null;
  }): Promise<JobRecord> {
    const t = now();
    await this.db
      .insertInto('jobs')
      .values({
        id: job.id,
        project: job.project,
        kind: job.kind,
        status: job.status,
        image: job.image,
        options: JSON.stringify(job.options),
        progress: '{}',
        log: '',
        created: t,
        updated: t,
        author: job.author ?? null,
      })
      .execute();
    return this.get(job.id);
  }

  async update(id: string, fields: JobUpdate): Promise<JobRecord> {
    const sets: UpdateObject<Schema, 'jobs'> = { updated: now() };
    if (fields.status) sets.status = fields.status;
    if (fields.progress) sets.progress = JSON.stringify(fields.progress);
    if (fields.error !== undefined) sets.error = fields.error;
    if (fields.result) sets.result = JSON.stringify(fields.result);
    // || concatenates on SQLite and PostgreSQL alike.
    if (fields.log) sets.log = sql<string>`log || ${fields.log}`;
    await this.db.updateTable('jobs').set(sets).where('id', '=', id).execute();
    return this.get(id);
  }

  /**
   * Marks a waiting training running, unless its project or author already has one running (on any
   * bridge node: the database's unique indexes decide); null then, and the job stays as it was.
   */
  async startTraining(id: string): Promise<JobRecord | null> {
    try {
      return await this.update(id, { status: 'running', progress: {} });
    } catch (e) {
      if (isUniqueViolation(e)) return null;
      throw e;
    }
  }

  /** The project's oldest training still queued or running, on any bridge node. */
  async activeTraining(project: string): Promise<JobRecord | undefined> {
    const r = await this.db
      .selectFrom('jobs')
      .selectAll()
      .where('project', '=', project)
      .where('kind', '=', 'train')
      .where('status', 'in', ['queued', 'running'])
      .orderBy('created')
      .orderBy('id')
      .executeTakeFirst();
    return r ? jobOf(r as JobRow) : undefined;
  }

  /** Every job queued or running, oldest first (bridge nodes look for those no node handles any more). */
  async unfinished(): Promise<JobRecord[]> {
    const rows = await this.db
      .selectFrom('jobs')
      .selectAll()
      .where('status', 'in', ['queued', 'running'])
      .orderBy('created')
      .orderBy('id')
      .execute();
    return rows.map((r) => jobOf(r as JobRow));
  }

  async get(id: string): Promise<JobRecord> {
    const r = await this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw notFound(`job ${id}`);
    return jobOf(r as JobRow);
  }

  async log(id: string): Promise<string> {
    const r = await this.db.selectFrom('jobs').select('log').where('id', '=', id).executeTakeFirst();
    return r?.log ?? '';
  }

  async list(project: string, limit = 50): Promise<JobRecord[]> {
    const rows = await this.db
      .selectFrom('jobs')
      .selectAll()
      .where('project', '=', project)
      .orderBy('created', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => jobOf(r as JobRow));
  }

  /** Jobs a previous process left queued or running: they can never finish now. */
  async failInterrupted(): Promise<number> {
    const result = await this.db
      .updateTable('jobs')
      .set({ status: 'failed', error: 'the bridge stopped while this job was queued or running', updated: now() })
      .where('status', 'in', ['queued', 'running'])
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }
}
