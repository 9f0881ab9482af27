import {
  childLineage,
  type ImpartialModel,
  initWeights,
  type LabelImage,
  type MultiChannelImage,
  newId,
  PatchSampler,
  type TrainResult,
  train,
  trainingConfig,
} from '@impartial/shared';
import { type BackendInfo, loadGenericModel } from '@impartial/shared/node';
import { UsageError } from './args.js';
import { log, progressBar } from './progress.js';

export interface TrainSpec {
  images: MultiChannelImage[];
  scribbles: LabelImage[];
  channelNames: string[];
  steps?: number;
  seconds?: number;
  seed: number;
  batchSize: number;
  depth: number;
  base: number;
  dropout?: number;
  /** Adam's step size and whether it decays over the budget (the engine's defaults when not given). */
  learningRate?: number;
  decay?: boolean;
  backend: BackendInfo;
  parent?: ImpartialModel;
  checkpoints?: number[];
  onCheckpoint?: (model: ImpartialModel, trainSeconds: number, step: number) => Promise<void>;
}

/** Trains a new model (or fine-tunes `parent`) with a progress bar on stderr. */
export async function trainWithProgress(spec: TrainSpec): Promise<{ model: ImpartialModel; result: TrainResult }> {
  const inChannels = spec.images[0]!.channels;
  const config = trainingConfig(spec.parent?.config, {
    inChannels,
    depth: spec.depth,
    base: spec.base,
    dropout: spec.dropout,
  });
  const weights = spec.parent ? spec.parent.weights : initWeights(config, spec.seed);
  const sampler = new PatchSampler(spec.images, spec.scribbles, { seed: spec.seed });
  const model: ImpartialModel = {
    config,
    weights,
    lineage: childLineage(spec.parent?.lineage ?? null, {
      id: newId('m'),
      author: process.env.USER ?? 'impartial',
      channels: spec.channelNames,
      steps: 0,
      seconds: 0,
      backend: spec.backend.description,
    }),
  };
  const bySteps = spec.steps !== undefined;
  const bar = progressBar('training', bySteps ? spec.steps! : spec.seconds!, bySteps ? ' steps' : ' s');
  const result = await train(config, weights, sampler, {
    ...(spec.steps !== undefined ? { steps: spec.steps } : {}),
    ...(spec.seconds !== undefined ? { seconds: spec.seconds } : {}),
    batchSize: spec.batchSize,
    seed: spec.seed,
    ...(spec.learningRate !== undefined ? { learningRate: spec.learningRate } : {}),
    ...(spec.decay !== undefined ? { decay: spec.decay } : {}),
    onProgress: (p) =>
      bar.update(
        bySteps ? p.step : p.elapsedSeconds,
        `step ${p.step} loss ${p.loss.toFixed(3)} (fg ${p.lossForeground.toFixed(3)} ` +
          `bg ${p.lossBackground.toFixed(3)} rec ${p.lossReconstruction.toFixed(3)}) ` +
          `${p.stepsPerSecond.toFixed(2)} steps/s ETA ${Math.ceil(p.etaSeconds)} s`,
      ),
    ...(spec.checkpoints ? { checkpoints: spec.checkpoints } : {}),
    ...(spec.onCheckpoint ? { onCheckpoint: (t: number, step: number) => spec.onCheckpoint!(model, t, step) } : {}),
  });
  bar.stop();
  const { id, author, channels, backend } = model.lineage;
  const trained = { id, author, channels, backend, steps: result.steps, seconds: result.seconds };
  model.lineage = childLineage(spec.parent?.lineage ?? null, trained);
  return { model, result };
}

/** `--init generic` (the shipped model for this channel count, when there is one) or `--init scratch`. */
export async function startingModel(
  init: string,
  channels: number,
  shape: { depth: number; base: number },
): Promise<ImpartialModel | undefined> {
  if (init === 'scratch') return undefined;
  if (init !== 'generic') throw new UsageError('--init must be generic or scratch');
  const generic = await loadGenericModel(channels);
  if (generic && (generic.config.depth !== shape.depth || generic.config.base !== shape.base)) {
    log(
      `the generic model is depth ${generic.config.depth} / base ${generic.config.base}; ` +
        `depth ${shape.depth} / base ${shape.base} starts from random weights`,
    );
    return undefined;
  }
  if (generic)
    log(`starting from the generic model ${generic.lineage.id} (${generic.lineage.steps} steps on synthetic cells)`);
  else log(`no generic model ships for ${channels} channels; starting from random weights`);
  return generic ?? undefined;
}
