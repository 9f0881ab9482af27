import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type AdamState,
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
import { DataFiles, type TaskFilesSpec } from '../store/files.js';
import { resumedFrom, resumedSeed, saveCheckpoint } from './checkpoints.js';
import { type ImageRef, modelChannels, readNormalizedRegion } from './region.js';

export interface TrainTaskSpec {
  kind: 'train';
  /** Object storage the task's folders live in (absent: the data folder). */
  files?: TaskFilesSpec;
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
  /**
   * A queued training's checkpoint: every `every` steps the weights go to `dir`; a worker that
   * takes the job over (the first one died) goes on from there.
   */
  checkpoint?: { dir: string; every: number };
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
  files: DataFiles,
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
  const zarr = await files.zarr(image.dir);
  for (const [x, y, w, h] of rects) {
    const data = await readNormalizedRegion(image, x, y, w, h, zarr);
    crops.push({
      image: { width: w, height: h, channels: modelChannels(image), data },
      scribbles: engineScribbles(raster.region(x, y, w, h)),
    });
  }
  return crops;
}

async function startingModel(
  spec: TrainTaskSpec,
  channels: number,
  hooks: TaskHooks,
  files: DataFiles,
): Promise<ImpartialModel | null> {
  if (spec.parentDir) {
    if (!(await files.have(spec.parentDir))) throw new Error(`the model to fine-tune is missing (${spec.parentDir})`);
    return loadModelDir(spec.parentDir);
  }
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

/** The lineage a checkpoint of a training from no model carries (model files need one). */
function checkpointLineage(spec: TrainTaskSpec): ImpartialModel['lineage'] {
  return childLineage(null, {
    id: `${spec.modelId}-checkpoint`,
    author: spec.author,
    channels: spec.channelNames,
    steps: 0,
    seconds: 0,
    strokesHash: spec.strokesHash,
    backend: 'checkpoint',
    metrics: {},
  });
}

/** Trains (or fine-tunes) on the strokes of the given images and saves a new model version. */
export async function runTrainTask(spec: TrainTaskSpec, hooks: TaskHooks): Promise<TrainTaskResult> {
  return DataFiles.forTask(spec.files, (files) => trainWith(spec, hooks, files));
}

interface TrainTaskResult {
  model: ImpartialModel;
  steps: number;
  seconds: number;
  cancelled: boolean;
  losses: number[];
}

async function trainWith(spec: TrainTaskSpec, hooks: TaskHooks, files: DataFiles): Promise<TrainTaskResult> {
  const backend = await initBackend();
  hooks.log(`backend: ${backend.description}`);
  const channels = modelChannels(spec.images[0]!);
  const crops = (await Promise.all(spec.images.map((i) => cropsOf(i, files)))).flat();
  hooks.log(`training on ${crops.length} region(s) of ${spec.images.length} image(s)`);
  const resumed = spec.checkpoint ? await resumedFrom(spec.checkpoint.dir, files, hooks.log) : null;
  if (resumed) {
    const optimizer = resumed.optimizer
      ? `Adam's state of step ${resumed.optimizer.steps}`
      : 'fresh Adam moments (the checkpoint has no optimiser state)';
    hooks.log(`resuming from the checkpoint at step ${resumed.steps} with ${optimizer}`);
  }
  const parent = resumed ? null : await startingModel(spec, channels, hooks, files);
  const parentLineage = resumed ? resumed.parent : (parent?.lineage ?? null);
  const start = resumed?.model ?? parent;
  const config = start?.config ?? { ...DEFAULT_UNET, inChannels: channels, depth: spec.depth, base: spec.base };
  if (config.inChannels !== channels)
    throw new Error(`the starting model reads ${config.inChannels} channels but the images have ${channels}`);
  const weights = start ? start.weights : initWeights(config, spec.seed);
  const done = { steps: resumed?.steps ?? 0, seconds: resumed?.seconds ?? 0 };
  const sampler = new PatchSampler(
    crops.map((c) => c.image),
    crops.map((c) => c.scribbles),
    // A resumed training gets a seed of its own: with spec.seed it would replay the patches of the
    // first steps. (The sampler's position is not saved, so this continues the data stream, not replicates it.)
    { seed: resumedSeed(spec.seed, done.steps), patch: spec.patch },
  );
  const checkpoint = spec.checkpoint;
  const trained = await train(config, weights, sampler, {
    ...(spec.steps !== undefined ? { steps: Math.max(0, spec.steps - done.steps) } : {}),
    ...(spec.seconds !== undefined ? { seconds: Math.max(0, spec.seconds - done.seconds) } : {}),
    ...(spec.learningRate !== undefined ? { learningRate: spec.learningRate } : {}),
    ...(resumed?.optimizer ? { optimizerState: resumed.optimizer } : {}),
    batchSize: spec.batchSize,
    signal: hooks.signal,
    onProgress: (p) =>
      hooks.progress({
        ...p,
        step: p.step + done.steps,
        ...(spec.steps !== undefined ? { totalSteps: spec.steps } : {}),
      }),
    ...(checkpoint
      ? {
          checkpointEvery: checkpoint.every,
          onCheckpoint: async (seconds: number, step: number, optimizerState: () => Promise<AdamState>) =>
            saveCheckpoint(
              checkpoint.dir,
              { config, weights, lineage: parentLineage ?? checkpointLineage(spec) },
              { parent: parentLineage, steps: done.steps + step, seconds: done.seconds + seconds },
              await optimizerState(),
              files,
            ),
        }
      : {}),
  });
  const result = { ...trained, steps: done.steps + trained.steps, seconds: done.seconds + trained.seconds };
  const model: ImpartialModel = {
    config,
    weights,
    lineage: childLineage(parentLineage, {
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
    await files.publish(spec.modelDir);
  }
  if (checkpoint && !result.cancelled) await files.remove(checkpoint.dir);
  return { model, steps: result.steps, seconds: result.seconds, cancelled: result.cancelled, losses: result.losses };
}
