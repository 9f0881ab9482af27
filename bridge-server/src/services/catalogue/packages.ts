import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { MODEL_JSON, MODEL_WEIGHTS, type ModelRecord } from '@impartial/shared';
import { decodeNpy } from '@impartial/shared/packaging';
import { exportInWorker, importInWorker } from '../../bioimageio/in-worker.js';
import type { PackageMeta } from '../../bioimageio/rdf.js';
import { coverAndSample } from '../../imaging/model-cover.js';
import type { Actor } from '../actor.js';
import type { ServiceContext } from '../context.js';
import type { ModelService } from '../models.js';
import type { Scope } from '../scope.js';
import { type CatalogueService, ENTRY_FILES } from './catalogue.js';

export interface ModelPackage {
  zip: Uint8Array;
  filename: string;
  /** Largest |ONNX - engine| on the test input. */
  maxDiff: number;
}

const fileName = (name: string) => `${name.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_|_$/g, '')}.bioimageio.zip`;

/** bioimage.io packages: export of a published entry or of a project's version, and import of ours. */
export class PackageService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly scope: Scope,
    private readonly catalogue: CatalogueService,
    private readonly models: ModelService,
  ) {}

  /** A published model with everything its entry says (authors, licence, citation, parent, cover). */
  async exportEntry(actor: Actor, id: string): Promise<ModelPackage> {
    const { entry, dir } = await this.catalogue.source(actor, id);
    const parent = entry.lineage.parent ? await this.ctx.store.catalogue.find(entry.lineage.parent) : null;
    const meta: PackageMeta = {
      name: entry.name,
      description: entry.description,
      authors: entry.authors.map(({ account: _a, ...a }) => a),
      license: entry.license,
      cite: entry.cite,
      tags: entry.tags,
      channels: entry.channels,
      ...(parent ? { parent: { id: parent.id, version: parent.version } } : {}),
      version: entry.version,
      training: entry.training,
      lineageAuthors: entry.lineage.authors,
      created: entry.created,
    };
    const read = (name: string) =>
      readFile(path.join(dir, name)).then(
        (b) => new Uint8Array(b),
        () => undefined,
      );
    const cover = entry.cover ? await read(ENTRY_FILES.cover) : undefined;
    const sample = await read(ENTRY_FILES.sample);
    const r = await exportInWorker({
      modelDir: dir,
      meta,
      ...(cover ? { cover } : {}),
      ...(sample ? { sample: decodeNpy(sample) } : {}),
      producerVersion: this.ctx.version,
    });
    return { zip: r.zip, maxDiff: r.maxDiff, filename: fileName(entry.name) };
  }

  /** A project's model version, published or not (then with what its lineage says, and no licence). */
  async exportModel(actor: Actor, modelId: string): Promise<ModelPackage> {
    const model = await this.scope.model(actor, modelId, 'read');
    const published = await this.ctx.store.catalogue.byModel(model.id);
    if (published && (await this.ctx.access.sees(actor, await this.ctx.store.catalogue.find(published)))) {
      return this.exportEntry(actor, published);
    }
    const authors = model.authors ?? [model.author];
    const name = `ImPartial ${model.channels.length}ch ${model.id}`.slice(0, 128);
    const meta: PackageMeta = {
      name,
      description: `ImPartial U-Net for ${model.channels.length}-channel images (${model.channels.join(', ')})`,
      authors: authors.map((n) => ({ name: n })),
      cite: [],
      tags: [],
      channels: model.channels.map((n) => ({ name: n, description: '' })),
      training: { steps: model.steps, seconds: model.trainSeconds, metrics: model.metrics },
      lineageAuthors: authors,
      created: model.created,
    };
    const made = await coverAndSample(this.ctx.store, await this.ctx.store.images.list(model.project), model.id);
    const r = await exportInWorker({
      modelDir: await this.ctx.store.modelFolder(model.id),
      meta,
      ...(made ? { cover: made.png, sample: made.sample } : {}),
      producerVersion: this.ctx.version,
    });
    return { zip: r.zip, maxDiff: r.maxDiff, filename: fileName(name) };
  }

  /** A package exported by ImPartial becomes the project's current version (checked first; refused: nothing stored). */
  async importPackage(actor: Actor, projectId: string, bytes: Uint8Array): Promise<ModelRecord> {
    const project = await this.scope.project(actor, projectId, 'write');
    const imported = await importInWorker(bytes);
    const files = new Map([
      [MODEL_JSON, new TextEncoder().encode(JSON.stringify(imported.manifestJson))],
      [MODEL_WEIGHTS, imported.weights],
    ]);
    return this.models.addUploaded(actor, project.id, files, null);
  }
}
