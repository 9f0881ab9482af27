import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  childLineage,
  DEFAULT_UNET,
  type DrawEntry,
  type ImpartialModel,
  initWeights,
  type LabelImage,
  type MultiChannelImage,
  PatchSampler,
  rasterizeDrawings,
  type TrainProgress,
  train,
} from '@impartial/shared';
import { initBackend, loadGenericModel, loadModelDir, saveModelDir } from '@impartial/shared/node';
import { lossCurveSvg } from '../cli/loss-plot.js';
import { type ImageRef, modelChannels, readNormalizedRegion } from './region.js';

export interface TrainTaskSpec {
  kind: 'train';
  modelId: string;
  /** Final model folder (written under tempDir first, then renamed). */
  modelDir: string;
  tempDir: string;
  author: string;
  strokesHash: string;
  channelNames: string[];
  /** The model to fine-tune, or how to start without one. */
  parentDir: string | null;
  init: 'generic' | 'scratch';
  images: Array<ImageRef & { drawings: DrawEntry[] }>;
  steps?: number;
  seconds?: number;
  learningRate?: number;
  batchSize: number;
  patch: number;
  depth: number;
  base: number;
  seed: number;
}

export interface TaskHooks {
  signal: AbortSignal;
  progress(p: TrainProgress): void;
  log(line: string): void;
}

/** Images up to this size train whole; larger ones train on blocks around their strokes. */
const WHOLE_IMAGE_PIXELS = 2048 * 2048;
const BLOCK = 1024;
const MARGIN = 96;

/**
 * Scribble raster in the engine's terms: class 1 = cell, 2 = background; other classes are not used
 * for training yet.
 */
function engineScribbles(raster: LabelImage): LabelImage {
  const data = raster.data.map((v) => (v === 1 || v === 2 ? v : 0));
  return { width: raster.width, height: raster.height, data };
}

/** Training crops of one image: the whole image, or a block (plus margin) around every 1024-block with strokes. */
async function cropsOf(
  image: TrainTaskSpec['images'][number],
): Promise<Array<{ image: MultiChannelImage; scribbles: LabelImage }>> {
  const raster = rasterizeDrawings(image.drawings, image.width, image.height);
  const rects: Array<[number, number, number, number]> = [];
  if (image.width * image.height <= WHOLE_IMAGE_PIXELS) rects.push([0, 0, image.width, image.height]);
  else {
    const blocks = new Set(
      raster
        .tileCoordinates()
        .map(([tx, ty]) => `${Math.floor((tx * raster.tile) / BLOCK)},${Math.floor((ty * raster.tile) / BLOCK)}`),
    );
    for (const key of blocks) {
      const [bx, by] = key.split(',').map(Number) as [number, number];
      const x0 = Math.max(0, bx * BLOCK - MARGIN),
        y0 = Math.max(0, by * BLOCK - MARGIN);
      const x1 = Math.min(image.width, (bx + 1) * BLOCK + MARGIN),
        y1 = Math.min(image.height, (by + 1) * BLOCK + MARGIN);
      rects.push([x0, y0, x1 - x0, y1 - y0]);
    }
  }
  const crops = [];
  for (const [x, y, w, h] of rects) {
    const data = await readNormalizedRegion(image, x, y, w, h);
    crops.push({
      image: { width: w, height: h, channels: modelChannels(image), data },
      scribbles: engineScribbles(raster.region(x, y, w, h)),
    });
  }
  return crops;
}

async function startingModel(spec: TrainTaskSpec, channels: number, hooks: TaskHooks): Promise<ImpartialModel | null> {
  if (spec.parentDir) return loadModelDir(spec.parentDir);
  if (spec.init === 'scratch') return null;
  const generic = await loadGenericModel(channels);
  if (generic && generic.config.depth === spec.depth && generic.config.base === spec.base) return generic;
  hooks.log(
    generic
      ? `the generic model is depth ${generic.config.depth} / base ${generic.config.base}; starting from random weights`
      : `no generic model for ${channels} channels; starting from random weights`,
  );
  return null;
}

/** Trains (or fine-tunes) on the strokes of the given images and saves a new model version. */
export async function runTrainTask(
  spec: TrainTaskSpec,
  hooks: TaskHooks,
): Promise<{ model: ImpartialModel; steps: number; seconds: number; cancelled: boolean; losses: number[] }> {
  const backend = await initBackend();
  hooks.log(`backend: ${backend.description}`);
  const channels = modelChannels(spec.images[0]!);
  const crops = (await Promise.all(spec.images.map(cropsOf))).flat();
  hooks.log(`training on ${crops.length} region(s) of ${spec.images.length} image(s)`);
  const parent = await startingModel(spec, channels, hooks);
  const config = parent?.config ?? { ...DEFAULT_UNET, inChannels: channels, depth: spec.depth, base: spec.base };
  if (config.inChannels !== channels)
    throw new Error(`the starting model reads ${config.inChannels} channels but the images have ${channels}`);
  const weights = parent ? parent.weights : initWeights(config, spec.seed);
  const sampler = new PatchSampler(
    crops.map((c) => c.image),
    crops.map((c) => c.scribbles),
    { seed: spec.seed, patch: spec.patch },
  );
  const result = await train(config, weights, sampler, {
    ...(spec.steps !== undefined ? { steps: spec.steps } : {}),
    ...(spec.seconds !== undefined ? { seconds: spec.seconds } : {}),
    ...(spec.learningRate !== undefined ? { learningRate: spec.learningRate } : {}),
    batchSize: spec.batchSize,
    signal: hooks.signal,
    onProgress: hooks.progress,
  });
  const model: ImpartialModel = {
    config,
    weights,
    lineage: childLineage(parent?.lineage ?? null, {
      id: spec.modelId,
      author: spec.author,
      channels: spec.channelNames,
      steps: result.steps,
      seconds: result.seconds,
      strokesHash: spec.strokesHash,
      backend: backend.description,
      metrics: { finalLoss: result.losses.at(-1) ?? Number.NaN },
    }),
  };
  if (result.steps > 0) {
    // Written whole under tempDir, then renamed: a kill leaves either no model or a complete one.
    const tmp = path.join(spec.tempDir, `${spec.modelId}.model`);
    await saveModelDir(model, tmp);
    await writeFile(path.join(tmp, 'loss.svg'), lossCurveSvg(result.losses, `model ${spec.modelId}`));
    await rm(spec.modelDir, { recursive: true, force: true });
    await mkdir(path.dirname(spec.modelDir), { recursive: true });
    await rename(tmp, spec.modelDir);
  }
  return { model, steps: result.steps, seconds: result.seconds, cancelled: result.cancelled, losses: result.losses };
}
