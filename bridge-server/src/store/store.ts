import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type {
  ImageRecord,
  JobRecord,
  JobStatus,
  ModelRecord,
  PredictionRecord,
  ProjectRecord,
} from '@impartial/shared';
import { type Db, openDatabase } from './db.js';
import { BridgeError, notFound } from './errors.js';
import { ImportRegistry } from './import-progress.js';
import { type DataLayout, dataLayout } from './paths.js';

/** Percentile range (p1, p98, all channels jointly) the engine normalises with, fixed at import. */
export interface ImageNorm {
  low: number;
  high: number;
}

export interface StoredImage extends ImageRecord {
  norm: ImageNorm;
  dir: string;
}

export function newId(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
}

const now = () => new Date().toISOString();

interface ImageRow {
  id: string;
  project: string;
  name: string;
  width: number;
  height: number;
  channels: number;
  channel_names: string;
  dtype: string;
  levels: number;
  norm: string;
  created: string;
}
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
}
interface PredictionRow {
  image: string;
  model: string;
  status: 'partial' | 'complete';
  cells: number | null;
  mean_entropy: number | null;
  tiles: string | null;
  created: string;
}

/** Projects, images, models, predictions and jobs: the SQLite index and where their files are. */
export class Store {
  readonly db: Db;
  readonly layout: DataLayout;
  readonly imports = new ImportRegistry();

  constructor(dataDir: string) {
    this.layout = dataLayout(dataDir);
    mkdirSync(this.layout.root, { recursive: true });
    // What a killed process left half-written (imports, models, uploads) is never used: start clean.
    rmSync(this.layout.temp, { recursive: true, force: true });
    mkdirSync(this.layout.temp, { recursive: true });
    this.db = openDatabase(this.layout.database);
  }

  close(): void {
    this.db.close();
  }

  // Projects

  createProject(name: string, id = newId('p')): ProjectRecord {
    if (this.db.prepare('SELECT 1 FROM projects WHERE id = ?').get(id))
      throw new BridgeError('conflict', `project ${id} already exists`);
    this.db.prepare('INSERT INTO projects (id, name, created) VALUES (?, ?, ?)').run(id, name, now());
    return this.project(id);
  }

  projects(): ProjectRecord[] {
    return (
      this.db.prepare('SELECT * FROM projects ORDER BY created').all() as Array<{
        id: string;
        name: string;
        created: string;
        current_model: string | null;
      }>
    ).map((r) => ({ id: r.id, name: r.name, created: r.created, currentModel: r.current_model }));
  }

  project(id: string): ProjectRecord {
    const r = this.db.prepare('SELECT * FROM projects WHERE id = ?').get(id) as
      | { id: string; name: string; created: string; current_model: string | null }
      | undefined;
    if (!r) throw notFound(`project ${id}`);
    return { id: r.id, name: r.name, created: r.created, currentModel: r.current_model };
  }

  setCurrentModel(project: string, model: string): void {
    this.db.prepare('UPDATE projects SET current_model = ? WHERE id = ?').run(model, project);
  }

  // Images

  private imageOf(r: ImageRow): StoredImage {
    return {
      id: r.id,
      project: r.project,
      name: r.name,
      width: r.width,
      height: r.height,
      channels: r.channels,
      channelNames: JSON.parse(r.channel_names) as string[],
      dtype: r.dtype,
      levels: r.levels,
      url: `/zarr/images/${r.id}/`,
      created: r.created,
      norm: JSON.parse(r.norm) as ImageNorm,
      dir: this.layout.image(r.id),
    };
  }

  addImage(image: Omit<StoredImage, 'url' | 'created' | 'dir'>): StoredImage {
    this.project(image.project);
    this.db
      .prepare(`INSERT INTO images (id, project, name, width, height, channels, channel_names, dtype, levels, norm, created)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(
        image.id,
        image.project,
        image.name,
        image.width,
        image.height,
        image.channels,
        JSON.stringify(image.channelNames),
        image.dtype,
        image.levels,
        JSON.stringify(image.norm),
        now(),
      );
    return this.image(image.id);
  }

  image(id: string): StoredImage {
    const r = this.db.prepare('SELECT * FROM images WHERE id = ?').get(id) as ImageRow | undefined;
    if (!r) throw notFound(`image ${id}`);
    return this.imageOf(r);
  }

  imageByName(project: string, name: string): StoredImage | null {
    const r = this.db
      .prepare('SELECT * FROM images WHERE project = ? AND name = ? ORDER BY created DESC LIMIT 1')
      .get(project, name) as ImageRow | undefined;
    return r ? this.imageOf(r) : null;
  }

  /** Forgets an image with its strokes, predictions and labels, then removes its files. */
  async deleteImage(id: string): Promise<void> {
    this.image(id);
    this.db.transaction(() => {
      for (const table of ['strokes', 'predictions', 'labels', 'image_info'])
        this.db.prepare(`DELETE FROM ${table} WHERE image = ?`).run(id);
      this.db.prepare('DELETE FROM images WHERE id = ?').run(id);
    })();
    await Promise.all(
      [this.layout.image(id), this.layout.predictions(id), path.join(this.layout.root, 'labels', id)].map((d) =>
        rm(d, { recursive: true, force: true }),
      ),
    );
  }

  // Labels attached under tags (files), and free-form info

  putLabel(image: string, tag: string, ext: string, info: Record<string, unknown>): void {
    this.db
      .prepare(`INSERT INTO labels (image, tag, ext, info, created) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (image, tag) DO UPDATE SET ext = excluded.ext, info = excluded.info, created = excluded.created`)
      .run(image, tag, ext, JSON.stringify(info), now());
  }

  labels(image: string): Array<{ tag: string; ext: string; info: Record<string, unknown>; created: string }> {
    return (
      this.db.prepare('SELECT tag, ext, info, created FROM labels WHERE image = ? ORDER BY tag').all(image) as Array<{
        tag: string;
        ext: string;
        info: string;
        created: string;
      }>
    ).map((r) => ({ tag: r.tag, ext: r.ext, info: JSON.parse(r.info) as Record<string, unknown>, created: r.created }));
  }

  deleteLabel(image: string, tag: string): boolean {
    return this.db.prepare('DELETE FROM labels WHERE image = ? AND tag = ?').run(image, tag).changes > 0;
  }

  imageInfo(image: string): Record<string, unknown> {
    const r = this.db.prepare('SELECT info FROM image_info WHERE image = ?').get(image) as { info: string } | undefined;
    return r ? (JSON.parse(r.info) as Record<string, unknown>) : {};
  }

  setImageInfo(image: string, info: Record<string, unknown>): void {
    this.db
      .prepare(
        'INSERT INTO image_info (image, info) VALUES (?, ?) ON CONFLICT (image) DO UPDATE SET info = excluded.info',
      )
      .run(image, JSON.stringify(info));
  }

  images(project: string): StoredImage[] {
    return (
      this.db.prepare('SELECT * FROM images WHERE project = ? ORDER BY created, id').all(project) as ImageRow[]
    ).map((r) => this.imageOf(r));
  }

  /** Public record (no server paths). */
  static publicImage(image: StoredImage): ImageRecord {
    const { norm: _norm, dir: _dir, ...record } = image;
    return record;
  }

  // Models

  addModel(record: ModelRecord, makeCurrent: boolean): void {
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO models (id, project, record, created) VALUES (?, ?, ?, ?)')
        .run(record.id, record.project, JSON.stringify(record), record.created);
      if (makeCurrent) this.setCurrentModel(record.project, record.id);
    })();
  }

  models(project: string): ModelRecord[] {
    return (
      this.db.prepare('SELECT record FROM models WHERE project = ? ORDER BY created, id').all(project) as Array<{
        record: string;
      }>
    ).map((r) => JSON.parse(r.record) as ModelRecord);
  }

  model(id: string): ModelRecord {
    const r = this.db.prepare('SELECT record FROM models WHERE id = ?').get(id) as { record: string } | undefined;
    if (!r) throw notFound(`model ${id}`);
    return JSON.parse(r.record) as ModelRecord;
  }

  // Predictions

  private predictionOf(r: PredictionRow): PredictionRecord {
    return {
      image: r.image,
      model: r.model,
      status: r.status,
      url: `/zarr/predictions/${r.image}/${r.model}/`,
      cells: r.cells,
      meanEntropy: r.mean_entropy,
      created: r.created,
    };
  }

  putPrediction(
    image: string,
    model: string,
    fields: { status: 'partial' | 'complete'; cells?: number | null; meanEntropy?: number | null },
  ): PredictionRecord {
    this.db
      .prepare(`INSERT INTO predictions (image, model, status, cells, mean_entropy, created) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (image, model) DO UPDATE SET status = excluded.status, cells = excluded.cells, mean_entropy = excluded.mean_entropy`)
      .run(image, model, fields.status, fields.cells ?? null, fields.meanEntropy ?? null, now());
    return this.prediction(image, model)!;
  }

  prediction(image: string, model: string): PredictionRecord | null {
    const r = this.db.prepare('SELECT * FROM predictions WHERE image = ? AND model = ?').get(image, model) as
      | PredictionRow
      | undefined;
    return r ? this.predictionOf(r) : null;
  }

  /** The newest prediction of an image (by the project's current model when there is one). */
  latestPrediction(image: string): PredictionRecord | null {
    const r = this.db
      .prepare(`SELECT p.* FROM predictions p JOIN images i ON i.id = p.image JOIN projects j ON j.id = i.project
      WHERE p.image = ? ORDER BY (p.model = j.current_model) DESC, p.created DESC LIMIT 1`)
      .get(image) as PredictionRow | undefined;
    return r ? this.predictionOf(r) : null;
  }

  predictions(image: string): PredictionRecord[] {
    return (
      this.db.prepare('SELECT * FROM predictions WHERE image = ? ORDER BY created').all(image) as PredictionRow[]
    ).map((r) => this.predictionOf(r));
  }

  // Jobs

  private jobOf(r: JobRow): JobRecord {
    return {
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
    };
  }

  addJob(job: {
    id: string;
    project: string;
    kind: 'train' | 'infer';
    status: JobStatus;
    image: string | null;
    options: unknown;
  }): JobRecord {
    const t = now();
    this.db
      .prepare(
        'INSERT INTO jobs (id, project, kind, status, image, options, progress, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(job.id, job.project, job.kind, job.status, job.image, JSON.stringify(job.options), '{}', t, t);
    return this.job(job.id);
  }

  updateJob(
    id: string,
    fields: {
      status?: JobStatus;
      progress?: Record<string, number>;
      error?: string | null;
      result?: Record<string, unknown>;
      log?: string;
    },
  ): JobRecord {
    const sets: string[] = ['updated = @updated'];
    const params: Record<string, unknown> = { id, updated: now() };
    if (fields.status) {
      sets.push('status = @status');
      params.status = fields.status;
    }
    if (fields.progress) {
      sets.push('progress = @progress');
      params.progress = JSON.stringify(fields.progress);
    }
    if (fields.error !== undefined) {
      sets.push('error = @error');
      params.error = fields.error;
    }
    if (fields.result) {
      sets.push('result = @result');
      params.result = JSON.stringify(fields.result);
    }
    if (fields.log) {
      sets.push('log = log || @log');
      params.log = fields.log;
    }
    this.db.prepare(`UPDATE jobs SET ${sets.join(', ')} WHERE id = @id`).run(params);
    return this.job(id);
  }

  job(id: string): JobRecord {
    const r = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    if (!r) throw notFound(`job ${id}`);
    return this.jobOf(r);
  }

  jobLog(id: string): string {
    return (this.db.prepare('SELECT log FROM jobs WHERE id = ?').get(id) as { log: string } | undefined)?.log ?? '';
  }

  jobs(project: string, limit = 50): JobRecord[] {
    return (
      this.db
        .prepare('SELECT * FROM jobs WHERE project = ? ORDER BY created DESC, id DESC LIMIT ?')
        .all(project, limit) as JobRow[]
    ).map((r) => this.jobOf(r));
  }

  /** Jobs a previous process left queued or running: they can never finish now. */
  failInterruptedJobs(): number {
    return this.db
      .prepare(`UPDATE jobs SET status = 'failed', error = 'the bridge stopped while this job was queued or running', updated = ?
      WHERE status IN ('queued', 'running')`)
      .run(now()).changes;
  }
}
