import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type AdamState,
  childLineage,
  type DrawEntry,
  type ImpartialModel,
  initWeights,
  PatchSampler,
  TRAINING_DEFAULTS,
  train,
  trainingConfig,
} from '@impartial/shared';
import { initBackend, loadGenericModel, loadModelDir, saveModelDir } from '@impartial/shared/node';
import { lossCurveSvg } from '../cli/loss-plot.js';
import { DataFiles, type TaskFilesSpec } from '../store/files.js';
import { resumedFrom, resumedSeed, saveCheckpoint } from './checkpoints.js';
import { cropsOf, type TrainCrop } from './crops.js';
import { chooseCutFromOutlines } from './cut-choice.js';
import { LIVE_SECONDS, LiveData, type LiveEvent, type LiveInbox, LiveSession, type LiveSpec } from './live-training.js';
import { type ImageRef, modelChannels } from './region.js';
import type { TaskHooks } from './task-hooks.js';

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
  /** `seq`: the newest entry of the image's stroke log that `drawings` include (live mode). */
  images: Array<ImageRef & { drawings: DrawEntry[]; seq?: number }>;
  steps?: number;
  seconds?: number;
  learningRate?: number;
  /** Whether the step size decays over the budget (TRAINING_DEFAULTS when not given; never in live mode). */
  decay?: boolean;
  /** Dropout of the model trained (TRAINING_DEFAULTS when not given). */
  dropout?: number;
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
  /** Live mode: the training runs until finished, takes in new strokes, and predicts this view again and again. */
  live?: LiveSpec;
}

/** What only a live training's thread has: the bridge's news, and a way to send its refreshes. */
export interface LiveHooks {
  inbox: LiveInbox;
  post(e: LiveEvent): void;
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
export async function runTrainTask(spec: TrainTaskSpec, hooks: TaskHooks, live?: LiveHooks): Promise<TrainTaskResult> {
  return DataFiles.forTask(spec.files, (files) => trainWith(spec, hooks, files, live));
}

interface TrainTaskResult {
  model: ImpartialModel;
  steps: number;
  seconds: number;
  cancelled: boolean;
  losses: number[];
}

/**
 * Batches from the strokes given (live mode: and those drawn while it trains), and the crops they
 * come from as they are at the end.
 */
async function samplerOf(
  spec: TrainTaskSpec,
  files: DataFiles,
  seed: number,
  log: (line: string) => void,
): Promise<{ sampler: PatchSampler | LiveData; crops: () => readonly TrainCrop[] }> {
  if (spec.live) {
    const data = await LiveData.create(spec.images, files, { seed, patch: spec.patch });
    return { sampler: data, crops: () => data.allCrops() };
  }
  const crops = (await Promise.all(spec.images.map((i) => cropsOf(i, i.drawings, files)))).flat();
  log(`training on ${crops.length} region(s) of ${spec.images.length} image(s)`);
  const sampler = new PatchSampler(
    crops.map((c) => c.image),
    crops.map((c) => c.scribbles),
    { seed, patch: spec.patch },
  );
  return { sampler, crops: () => crops };
}

async function trainWith(
  spec: TrainTaskSpec,
  hooks: TaskHooks,
  files: DataFiles,
  liveHooks?: LiveHooks,
): Promise<TrainTaskResult> {
  const backend = await initBackend();
  hooks.log(`backend: ${backend.description}`);
  const channels = modelChannels(spec.images[0]!);
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
  // A resumed training goes on with its own net; any other takes this training's dropout.
  const config =
    resumed?.model.config ??
    trainingConfig(parent?.config, { inChannels: channels, depth: spec.depth, base: spec.base, dropout: spec.dropout });
  if (config.inChannels !== channels)
    throw new Error(`the starting model reads ${config.inChannels} channels but the images have ${channels}`);
  const weights = start ? start.weights : initWeights(config, spec.seed);
  const done = { steps: resumed?.steps ?? 0, seconds: resumed?.seconds ?? 0 };
  // A resumed training gets a seed of its own: with spec.seed it would replay the patches of the
  // first steps. (The sampler's position is not saved, so this continues the data stream, not replicates it.)
  // The dropout masks take the same seed.
  const seed = resumedSeed(spec.seed, done.steps);
  const { sampler, crops } = await samplerOf(spec, files, seed, hooks.log);
  const live =
    spec.live && liveHooks && sampler instanceof LiveData
      ? new LiveSession(spec.live, sampler, liveHooks.inbox, files, liveHooks.post, hooks.signal)
      : null;
  const lineage = (steps: number, seconds: number, metrics: Record<string, number>) =>
    childLineage(parentLineage, {
      id: spec.modelId,
      author: spec.author,
      channels: spec.channelNames,
      steps,
      seconds,
      strokesHash: spec.strokesHash,
      backend: backend.description,
      metrics,
    });
  if (live && !(await live.waitForStrokes(spec.seconds ?? LIVE_SECONDS, hooks.log))) {
    const model = { config, weights, lineage: lineage(0, 0, {}) };
    return { model, steps: 0, seconds: 0, cancelled: hooks.signal.aborted, losses: [] };
  }
  const checkpoint = spec.checkpoint;
  // The weights a live refresh predicts with: those being trained, under the version's id.
  const current = { config, weights, lineage: lineage(0, 0, {}) };
  const trained = await train(config, weights, sampler, {
    ...(spec.steps !== undefined ? { steps: Math.max(0, spec.steps - done.steps) } : {}),
    ...(spec.seconds !== undefined ? { seconds: Math.max(0, spec.seconds - done.seconds) } : {}),
    ...(spec.learningRate !== undefined ? { learningRate: spec.learningRate } : {}),
    // A live training has no budget to decay over (its seconds are a cap, not a plan).
    decay: !live && (spec.decay ?? TRAINING_DEFAULTS.decay),
    spentBefore: done,
    seed,
    ...(resumed?.optimizer ? { optimizerState: resumed.optimizer } : {}),
    batchSize: spec.batchSize,
    signal: live?.signal ?? hooks.signal,
    ...(live ? { afterStep: (step: number) => live.afterStep(step, current) } : {}),
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
  // A live training finished on request is done, not cancelled.
  const cancelled = live ? hooks.signal.aborted : trained.cancelled;
  const steps = done.steps + trained.steps,
    seconds = done.seconds + trained.seconds;
  const result = { ...trained, steps, seconds, cancelled };
  const model: ImpartialModel = {
    config,
    weights,
    lineage: lineage(steps, seconds, { finalLoss: result.losses.at(-1) ?? Number.NaN }),
  };
  if (result.steps > 0) {
    if (!result.cancelled) {
      const cut = await chooseCutFromOutlines(model, crops(), hooks.log);
      if (cut) model.lineage.instances = cut;
    }
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
