import type { JobRecord, JobStatus } from '@impartial/shared';
import { notFound } from '../../errors.js';
import type { Db } from '../db.js';
import { now } from './time.js';

interface JobRow {
  id: string;
  project: string;
  kind: 'train' | 'infer';
  status: JobStatus;
  image: string | null;
  options: string;
  progress: string;
  error: string | null;
  result: string | null;
  log: string;
  created: string;
  updated: string;
  author: string | null;
}

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

  add(job: {
    id: string;
    project: string;
    kind: 'train' | 'infer';
    status: JobStatus;
    image: string | null;
    options: unknown;
    /** The account that asked for it (multi-user bridges). */
    author?: string | null;
  }): JobRecord {
    const t = now();
    this.db
      .prepare(`INSERT INTO jobs (id, project, kind, status, image, options, progress, created, updated, author)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(
        job.id,
        job.project,
        job.kind,
        job.status,
        job.image,
        JSON.stringify(job.options),
        '{}',
        t,
        t,
        job.author ?? null,
      );
    return this.get(job.id);
  }

  update(id: string, fields: JobUpdate): JobRecord {
    const sets: string[] = ['updated = @updated'];
    const params: Record<string, unknown> = { id, updated: now() };
    const set = (column: string, value: unknown, sql = `${column} = @${column}`) => {
      sets.push(sql);
      params[column] = value;
    };
    if (fields.status) set('status', fields.status);
    if (fields.progress) set('progress', JSON.stringify(fields.progress));
    if (fields.error !== undefined) set('error', fields.error);
    if (fields.result) set('result', JSON.stringify(fields.result));
    if (fields.log) set('log', fields.log, 'log = log || @log');
    this.db.prepare(`UPDATE jobs SET ${sets.join(', ')} WHERE id = @id`).run(params);
    return this.get(id);
  }

  get(id: string): JobRecord {
    const r = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    if (!r) throw notFound(`job ${id}`);
    return jobOf(r);
  }

  log(id: string): string {
    return (this.db.prepare('SELECT log FROM jobs WHERE id = ?').get(id) as { log: string } | undefined)?.log ?? '';
  }

  list(project: string, limit = 50): JobRecord[] {
    const rows = this.db
      .prepare('SELECT * FROM jobs WHERE project = ? ORDER BY created DESC, id DESC LIMIT ?')
      .all(project, limit);
    return (rows as JobRow[]).map(jobOf);
  }

  /** Jobs a previous process left queued or running: they can never finish now. */
  failInterrupted(): number {
    return this.db
      .prepare(`UPDATE jobs SET status = 'failed', error = 'the bridge stopped while this job was queued or running',
      updated = ? WHERE status IN ('queued', 'running')`)
      .run(now()).changes;
  }
}
