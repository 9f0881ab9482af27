import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  checkModelFiles,
  childLineage,
  ImpartialError,
  type LineageStep,
  MODEL_JSON,
  MODEL_WEIGHTS,
  type ModelLineage,
  type ModelRecord,
  newId,
} from '@impartial/shared';
import { genericModelDir } from '@impartial/shared/node';
import { badRequest, notFound } from '../errors.js';
import { KeyedQueue } from '../keyed-queue.js';
import { modelRecordOf } from '../store/store.js';
import type { Actor } from './actor.js';
import type { ServiceContext } from './context.js';
import type { Scope } from './scope.js';

/** Files of a model version a client may fetch. */
const MODEL_FILES = ['model.json', 'weights.bin', 'loss.svg'];

/** Model versions: listing, their files, copies of the shipped generic model, and uploaded versions. */
export class ModelService {
  private readonly choosing = new KeyedQueue();
  constructor(
    private readonly ctx: ServiceContext,
    private readonly scope: Scope,
  ) {}

  async list(actor: Actor, projectId: string): Promise<ModelRecord[]> {
    return this.ctx.store.models.list((await this.scope.project(actor, projectId, 'read')).id);
  }

  get(actor: Actor, id: string): Promise<ModelRecord> {
    return this.scope.model(actor, id, 'read');
  }

  /** The folder of a version and the checked name of one of its files. */
  async file(actor: Actor, id: string, name: string): Promise<{ dir: string; name: string }> {
    const model = await this.get(actor, id);
    if (!MODEL_FILES.includes(name)) throw notFound(`model file ${name} (choose ${MODEL_FILES.join(', ')})`);
    return { dir: await this.ctx.store.modelFolder(model.id), name };
  }

  /** "SHA256:<hex>" of a version's weights. */
  async checksum(actor: Actor, id: string): Promise<string> {
    const dir = await this.ctx.store.modelFolder((await this.get(actor, id)).id);
    const bytes = await readFile(path.join(dir, MODEL_WEIGHTS));
    return `SHA256:${createHash('sha256').update(bytes).digest('hex')}`;
  }

  /**
   * The model for images with `channels` channels: the project's current version, or its newest
   * one that reads that many, or else the shipped generic model, added once as a version.
   */
  async forChannels(actor: Actor, projectId: string, channels: number): Promise<ModelRecord> {
    // One at a time per project: two viewers opening a new project's images add the starting model once.
    return this.choosing.run(projectId, () => this.chooseForChannels(actor, projectId, channels));
  }

  private async chooseForChannels(actor: Actor, projectId: string, channels: number): Promise<ModelRecord> {
    const project = await this.scope.project(actor, projectId, 'read');
    const versions = await this.ctx.store.models.list(project.id);
    const current = versions.find((m) => m.id === project.currentModel);
    if (current && current.channels.length === channels) return current;
    const latest = [...versions].reverse().find((m) => m.channels.length === channels);
    if (latest) return latest;
    const generic = genericModelDir(channels);
    if (!generic) throw new ImpartialError('not-ready', `no model for ${channels}-channel images yet: train one first`);
    await this.scope.project(actor, project.id, 'write');
    const lineage = (JSON.parse(await readFile(path.join(generic, MODEL_JSON), 'utf8')) as { lineage: ModelLineage })
      .lineage;
    const id = newId('m');
    const tmp = path.join(this.ctx.store.layout.temp, `${id}.generic`);
    await cp(generic, tmp, { recursive: true });
    return this.addVersion(
      project.id,
      tmp,
      childLineage(lineage, copyOf(id, 'generic', lineage)),
      !project.currentModel,
    );
  }

  /**
   * A published model copied into a project as its current version: its parent is the published
   * version, and it names the catalogue entry, so what is done with it is credited there.
   */
  async addFromCatalogue(actor: Actor, projectId: string, entry: string, sourceDir: string): Promise<ModelRecord> {
    const project = await this.scope.project(actor, projectId, 'write');
    const id = newId('m');
    const tmp = path.join(this.ctx.store.layout.temp, `${id}.catalogue`);
    let parent: ModelLineage;
    try {
      await mkdir(tmp, { recursive: true });
      await copyModelFiles(sourceDir, tmp);
      parent = (JSON.parse(await readFile(path.join(tmp, MODEL_JSON), 'utf8')) as { lineage: ModelLineage }).lineage;
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
    return this.addVersion(project.id, tmp, childLineage(parent, copyOf(id, actor.name, parent, entry)), true);
  }

  /**
   * A version uploaded as model.json + weights.bin (its own id kept as parent) becomes the current
   * one; `channels`, when given, is what the project's images have.
   */
  async addUploaded(actor: Actor, projectId: string, files: Map<string, Uint8Array>, channels: number | null) {
    const project = await this.scope.project(actor, projectId, 'write');
    const json = files.get(MODEL_JSON),
      weights = files.get(MODEL_WEIGHTS);
    if (!json || !weights) throw badRequest(`a model upload is a zip holding ${MODEL_JSON} and ${MODEL_WEIGHTS}`);
    let manifest: ReturnType<typeof checkModelFiles>;
    try {
      manifest = checkModelFiles(JSON.parse(new TextDecoder().decode(json)), weights.byteLength);
    } catch (e) {
      throw badRequest(`model upload: ${(e as Error).message}`);
    }
    if (channels !== null && manifest.config.inChannels !== channels) {
      throw badRequest(`the uploaded model reads ${manifest.config.inChannels} channels, not ${channels}`);
    }
    const id = newId('m');
    const tmp = path.join(this.ctx.store.layout.temp, `${id}.upload`);
    await mkdir(tmp, { recursive: true });
    await writeFile(path.join(tmp, MODEL_WEIGHTS), weights);
    await writeFile(path.join(tmp, MODEL_JSON), json);
    const parent = manifest.lineage as ModelLineage;
    return this.addVersion(project.id, tmp, childLineage(parent, copyOf(id, actor.name, parent)), true);
  }

  /** Moves a complete model folder into place with its new lineage, indexes it, and tells the project's clients. */
  private async addVersion(project: string, tmp: string, lineage: ModelLineage, makeCurrent: boolean) {
    try {
      const file = path.join(tmp, MODEL_JSON);
      const json = JSON.parse(await readFile(file, 'utf8')) as { lineage: ModelLineage };
      await writeFile(file, JSON.stringify({ ...json, lineage }, null, 1));
      const dir = this.ctx.store.layout.model(lineage.id);
      await mkdir(path.dirname(dir), { recursive: true });
      await rename(tmp, dir);
      await this.ctx.store.files.publish(dir);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
    const record = modelRecordOf(lineage, project);
    await this.ctx.store.models.add(record, makeCurrent);
    if (makeCurrent) this.ctx.hub.toProject(project, { type: 'model', model: record, current: true });
    return record;
  }
}

/** Copies a version's files: model.json and weights.bin must be there; the loss curve may not. */
export async function copyModelFiles(from: string, to: string): Promise<void> {
  for (const name of MODEL_FILES) {
    await cp(path.join(from, name), path.join(to, name)).catch((e: NodeJS.ErrnoException) => {
      if (name !== 'loss.svg' || e.code !== 'ENOENT') throw e;
    });
  }
}

/** A copy adds no training: it keeps the parent's channels, hash, metrics and backend. */
function copyOf(id: string, author: string, parent: ModelLineage, catalogue?: string): LineageStep {
  return {
    id,
    author,
    ...(catalogue ? { catalogue } : {}),
    steps: 0,
    seconds: 0,
    ...(parent.strokesHash !== undefined ? { strokesHash: parent.strokesHash } : {}),
    ...(parent.backend !== undefined ? { backend: parent.backend } : {}),
    ...(parent.metrics ? { metrics: parent.metrics } : {}),
  };
}
