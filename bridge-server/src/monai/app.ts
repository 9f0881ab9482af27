import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { checkModelFiles, MODEL_JSON, MODEL_WEIGHTS, type ModelRecord } from '@impartial/shared';
import { genericModelDir } from '@impartial/shared/node';
import type { BridgeContext } from '../hub/connection.js';
import { BridgeError } from '../store/errors.js';
import { newId, type StoredImage } from '../store/store.js';

/*
 * MONAI Label's view of the bridge: one project is its datastore; images are addressed by name
 * (MONAI's image id), models by channel count (impartial_1, impartial_2, ... as the original
 * ImPartial app names them), backed by the project's current model version.
 */

export const MONAI_AUTHOR = 'monai';

export interface TaskRecord {
  id: string;
  status: 'SUBMITTED' | 'RUNNING' | 'DONE' | 'ERROR' | 'STOPPED';
  request: Record<string, unknown>;
  start_ts: string;
  end_ts: string;
  details: string[];
  result?: Record<string, unknown>;
}

export const monaiTimestamp = (d = new Date()) => d.toISOString().replace('T', ' ').slice(0, 19);

/** Log lines the bridge keeps for GET /logs/. */
export class LogRing {
  private readonly lines: string[] = [];
  add(line: string): void {
    this.lines.push(`[${monaiTimestamp()}] ${line}`);
    if (this.lines.length > 1000) this.lines.splice(0, this.lines.length - 1000);
  }
  tail(n: number): string[] {
    return this.lines.slice(-n);
  }
}

export class MonaiApp {
  readonly logs = new LogRing();
  train: TaskRecord | null = null;
  trainJob: string | null = null;
  batch: TaskRecord | null = null;
  batchStop = false;

  constructor(
    readonly ctx: BridgeContext,
    readonly projectId: string,
  ) {}

  /** The datastore project, made on first use. */
  project(): string {
    try {
      this.ctx.store.project(this.projectId);
    } catch (e) {
      if (!(e instanceof BridgeError) || e.code !== 'not-found') throw e;
      this.ctx.store.createProject('MONAI Label datastore', this.projectId);
    }
    return this.projectId;
  }

  images(): StoredImage[] {
    return this.ctx.store.images(this.project());
  }

  /** A MONAI image id: an image name in the datastore project, or one of our image ids. */
  image(id: string | null): StoredImage {
    if (!id) throw new BridgeError('bad-request', 'the image query parameter is required');
    const byName = this.ctx.store.imageByName(this.project(), id);
    if (byName) return byName;
    try {
      return this.ctx.store.image(id);
    } catch {
      throw new BridgeError('not-found', `image ${id} is not in the datastore`);
    }
  }

  /** MONAI's image id for one of our images. */
  monaiId(image: StoredImage): string {
    return image.project === this.projectId ? image.name : image.id;
  }

  channelsOf(model: string): number {
    const m = /^impartial_(\d+)$/.exec(model);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 64)
      throw new BridgeError('not-found', `model ${model} (models are impartial_N, N = the image channel count)`);
    return Number(m[1]);
  }

  /** Channel counts the app offers models for: 1-3 as the original, plus any in the datastore. */
  modelNames(): string[] {
    const counts = new Set([1, 2, 3, ...this.images().map((i) => i.channels)]);
    return [...counts].sort((a, b) => a - b).map((n) => `impartial_${n}`);
  }

  /** Whether an image has strokes in effect (MONAI's "final label"). */
  labelled(image: StoredImage): boolean {
    return this.ctx.strokes.drawings(image.id).length > 0;
  }

  /**
   * The current model for `channels`: the project's current version, or else the shipped generic
   * model for that channel count, added once as the first version (MONAI's pretrained model).
   */
  async model(channels: number): Promise<ModelRecord> {
    const project = this.ctx.store.project(this.project());
    const versions = this.ctx.store.models(project.id);
    const current = project.currentModel ? versions.find((m) => m.id === project.currentModel) : undefined;
    if (current && current.channels.length === channels) return current;
    const latest = [...versions].reverse().find((m) => m.channels.length === channels);
    if (latest) return latest;
    const generic = genericModelDir(channels);
    if (!generic)
      throw new BridgeError(
        'not-ready',
        `no impartial_${channels} model yet: train one first (POST /train/impartial_${channels})`,
      );
    const manifest = JSON.parse(await readFile(path.join(generic, MODEL_JSON), 'utf8')) as {
      lineage: { id: string; steps: number; trainSeconds: number; channels: string[]; created: string };
    };
    const id = newId('m');
    const dir = this.ctx.store.layout.model(id);
    await mkdir(path.dirname(dir), { recursive: true });
    await cp(generic, dir, { recursive: true });
    const record: ModelRecord = {
      id,
      project: project.id,
      parent: manifest.lineage.id,
      created: new Date().toISOString(),
      author: 'generic',
      channels: manifest.lineage.channels,
      steps: manifest.lineage.steps,
      trainSeconds: manifest.lineage.trainSeconds,
      strokesHash: '',
      metrics: {},
    };
    await this.rewriteLineage(dir, record);
    this.ctx.store.addModel(record, !project.currentModel);
    this.logs.add(`model ${id}: the generic ${channels}-channel model, as the first version`);
    return record;
  }

  /** model.json of a copied model gets the new version's id and parent. */
  async rewriteLineage(dir: string, record: ModelRecord): Promise<void> {
    const file = path.join(dir, MODEL_JSON);
    const json = JSON.parse(await readFile(file, 'utf8')) as { lineage: Record<string, unknown> };
    json.lineage = {
      ...json.lineage,
      id: record.id,
      parent: record.parent,
      author: record.author,
      created: record.created,
    };
    await writeFile(file, JSON.stringify(json, null, 1));
  }

  /** A model uploaded as model.json + weights.bin becomes a new version (its own id kept as parent). */
  async addUploadedModel(files: Map<string, Uint8Array>, channels: number): Promise<ModelRecord> {
    const json = files.get(MODEL_JSON),
      weights = files.get(MODEL_WEIGHTS);
    if (!json || !weights)
      throw new BridgeError('bad-request', `a model upload is a zip holding ${MODEL_JSON} and ${MODEL_WEIGHTS}`);
    let manifest: ReturnType<typeof checkModelFiles>;
    try {
      manifest = checkModelFiles(JSON.parse(new TextDecoder().decode(json)), weights.byteLength);
    } catch (e) {
      throw new BridgeError('bad-request', `model upload: ${(e as Error).message}`);
    }
    if (manifest.config.inChannels !== channels)
      throw new BridgeError(
        'bad-request',
        `the uploaded model reads ${manifest.config.inChannels} channels; impartial_${channels} reads ${channels}`,
      );
    const id = newId('m');
    const record: ModelRecord = {
      id,
      project: this.project(),
      parent: manifest.lineage.id,
      created: new Date().toISOString(),
      author: 'upload',
      channels: manifest.lineage.channels,
      steps: manifest.lineage.steps,
      trainSeconds: manifest.lineage.trainSeconds,
      strokesHash: manifest.lineage.strokesHash ?? '',
      metrics: Object.fromEntries(Object.entries(manifest.lineage.metrics ?? {}).filter(([, v]) => Number.isFinite(v))),
    };
    const tmp = path.join(this.ctx.store.layout.temp, `${id}.upload`);
    await mkdir(tmp, { recursive: true });
    await writeFile(path.join(tmp, MODEL_WEIGHTS), weights);
    await writeFile(path.join(tmp, MODEL_JSON), json);
    await this.rewriteLineage(tmp, record);
    const dir = this.ctx.store.layout.model(id);
    await mkdir(path.dirname(dir), { recursive: true });
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
    this.ctx.store.addModel(record, true);
    this.ctx.hub.toProject(record.project, { type: 'model', model: record, current: true });
    this.logs.add(`model ${id}: uploaded (was ${manifest.lineage.id})`);
    return record;
  }

  async checksum(model: ModelRecord): Promise<string> {
    const bytes = await readFile(path.join(this.ctx.store.layout.model(model.id), MODEL_WEIGHTS));
    return `SHA256:${createHash('sha256').update(bytes).digest('hex')}`;
  }
}
