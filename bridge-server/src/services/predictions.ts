import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  DEFAULT_INSTANCE_OPTIONS,
  type InstanceOptions,
  MODEL_JSON,
  openArray,
  type PredictionRecord,
  readRegion,
} from '@impartial/shared';
import { notFound } from '../errors.js';
import { exportLevel, type PredictionPart, predictionOutlines, predictionTiff } from '../imaging/exports.js';
import type { StoredImage } from '../store/store.js';
import type { Actor } from './actor.js';
import type { ServiceContext } from './context.js';
import type { Scope } from './scope.js';
import { type ZarrFiles, zarrFiles } from './zarr-files.js';

/** Predictions of an image: records, the OME-Zarr to serve, and exports (TIFF, ROI set, GeoJSON). */
export class PredictionService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly scope: Scope,
  ) {}

  async list(actor: Actor, imageId: string): Promise<PredictionRecord[]> {
    return this.ctx.store.predictions.list((await this.scope.image(actor, imageId, 'read')).id);
  }

  /** The newest prediction of an image (by the project's current model when there is one). */
  async latest(actor: Actor, imageId: string): Promise<PredictionRecord | null> {
    return this.ctx.store.predictions.latest((await this.scope.image(actor, imageId, 'read')).id);
  }

  private async existing(
    actor: Actor,
    imageId: string,
    model: string,
  ): Promise<{ image: StoredImage; record: PredictionRecord }> {
    const image = await this.scope.image(actor, imageId, 'read');
    const record = await this.ctx.store.predictions.find(image.id, model);
    if (!record) throw notFound(`a prediction of image ${image.id} by model ${model}`);
    return { image, record };
  }

  /** Where a prediction's OME-Zarr files are read from, for serving them. */
  async zarrFiles(actor: Actor, imageId: string, model: string): Promise<ZarrFiles> {
    const { image } = await this.existing(actor, imageId, model);
    return zarrFiles(this.ctx.store, this.ctx.store.layout.prediction(image.id, model));
  }

  /** One part (instance labels, probability or entropy) of a level as a TIFF. */
  async tiff(actor: Actor, imageId: string, model: string, part: PredictionPart, level?: number): Promise<Uint8Array> {
    const { image } = await this.existing(actor, imageId, model);
    return predictionTiff(this.ctx.store, image, model, level ?? 0, part);
  }

  /** Cell outlines (level 0) as an ImageJ ROI set or GeoJSON. */
  async outlines(
    actor: Actor,
    imageId: string,
    model: string,
    format: 'rois' | 'geojson',
  ): Promise<Uint8Array | string> {
    const { image } = await this.existing(actor, imageId, model);
    return predictionOutlines(this.ctx.store, image, model, format);
  }

  /** The finest pyramid level an export of this image can read whole. */
  async exportLevel(actor: Actor, imageId: string): Promise<number> {
    return exportLevel(await this.scope.image(actor, imageId, 'read'));
  }

  /** Level 0 of probability and entropy, and the instance cut saved with the model. */
  async maps(actor: Actor, imageId: string, model: string) {
    const { image } = await this.existing(actor, imageId, model);
    const zarr = await this.ctx.store.files.zarr(this.ctx.store.layout.prediction(image.id, model));
    const level0 = await openArray(zarr, '0');
    const probability = (await readRegion(level0, 0, 0, image.width, image.height, 0)) as Float32Array;
    const entropy = (await readRegion(level0, 0, 0, image.width, image.height, 1)) as Float32Array;
    const manifest = path.join(await this.ctx.store.modelFolder(model), MODEL_JSON);
    const saved = JSON.parse(await readFile(manifest, 'utf8')) as { lineage: { instances?: Partial<InstanceOptions> } };
    const instances: InstanceOptions = { ...DEFAULT_INSTANCE_OPTIONS, ...saved.lineage.instances };
    return { width: image.width, height: image.height, probability, entropy, instances };
  }
}
