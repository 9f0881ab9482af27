import * as tf from '@tensorflow/tfjs-core';
import type { PatchBatch } from '../image/patches.js';
import { TRAINING_DEFAULTS } from '../protocol/settings.js';
import { type AdamState, adamForBackend, type WeightUpdate } from './adam.js';
import { impartialLossOnCpu } from './fused-loss.js';
import { impartialLoss } from './losses.js';
import { forward, seedDropoutMasks, type UNetConfig, type UNetWeights } from './unet.js';

export interface TrainOptions {
  /** Stop after this many steps ... */
  steps?: number;
  /** ... or once this much training time has passed (whichever comes first). */
  seconds?: number;
  batchSize: number;
  learningRate: number;
  /**
   * Budget-aware decay: the step size falls linearly from learningRate to a twentieth of it as the
   * budget (the further of steps and seconds) is spent, so a short training ends settled.
   */
  decay?: boolean;
  /**
   * What an earlier run of this same training spent (a job resumed from its checkpoint): the decay
   * goes on from there over the whole budget, this call's steps and seconds being what is left of it.
   */
  spentBefore?: { steps: number; seconds: number };
  /** L2 weight decay added to the gradients, as torch.optim.Adam(weight_decay) does. */
  weightDecay: number;
  /**
   * Seeds the dropout masks: with a step budget, the same seed, starting weights and batches then
   * repeat a training exactly (a time budget still ends wherever the clock stops it).
   */
  seed?: number;
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void;
  /** Training times (s) at which to pause and call onCheckpoint; its time does not count as training. */
  checkpoints?: number[];
  /** Also call onCheckpoint after every this many steps (a job that may move to another machine). */
  checkpointEvery?: number;
  /**
   * Called at each checkpoint; optimizerState reads Adam's state (moments keyed by weight name), for
   * a caller that saves it to resume from (a readback of twice the weights, so only on demand).
   */
  onCheckpoint?: (trainSeconds: number, step: number, optimizerState: () => Promise<AdamState>) => Promise<void>;
  /** Adam's state to go on from (a checkpoint's), instead of fresh moments and a step count of 0. */
  optimizerState?: AdamState;
  /**
   * Called after every step; its time does not count as training. A live training uses it to let
   * its thread hear new strokes (changing the batch source) and to predict with the latest weights.
   */
  afterStep?: (step: number) => Promise<void>;
}

/** Where training batches come from: a PatchSampler, or one whose data changes as it trains. */
export interface BatchSource {
  readonly channels: number;
  readonly hasScribbles: boolean;
  batch(size: number): PatchBatch;
}

export const DEFAULT_TRAIN: Omit<TrainOptions, 'steps' | 'seconds'> = {
  batchSize: TRAINING_DEFAULTS.batchSize,
  learningRate: TRAINING_DEFAULTS.learningRate,
  decay: TRAINING_DEFAULTS.decay,
  weightDecay: TRAINING_DEFAULTS.weightDecay,
};

export interface TrainProgress {
  step: number;
  /** Planned steps when a step budget is set. */
  totalSteps?: number;
  loss: number;
  lossForeground: number;
  lossBackground: number;
  lossReconstruction: number;
  stepsPerSecond: number;
  elapsedSeconds: number;
  /** Seconds until the budget (steps or time) is spent. */
  etaSeconds: number;
}

export interface TrainResult {
  steps: number;
  seconds: number;
  /** Loss of every step, for loss curves. */
  losses: number[];
  cancelled: boolean;
}

function batchTensors(b: PatchBatch) {
  const shape4: [number, number, number, number] = [b.size, b.patch, b.patch, b.channels];
  const shape3: [number, number, number] = [b.size, b.patch, b.patch];
  return {
    input: tf.tensor4d(b.input, shape4),
    target: tf.tensor4d(b.target, shape4),
    blindMask: tf.tensor4d(b.blindMask, shape4),
    foreground: tf.tensor3d(b.foreground, shape3),
    background: tf.tensor3d(b.background, shape3),
  };
}

export interface StepLosses {
  loss: number;
  foreground: number;
  background: number;
  reconstruction: number;
}

/** One optimiser over a weight set: each step is forward + backward + Adam on one batch. */
export class Trainer {
  private readonly optimizer: WeightUpdate;
  private readonly vars: tf.Variable[];

  constructor(
    private readonly config: UNetConfig,
    private readonly weights: UNetWeights,
    options: Pick<TrainOptions, 'learningRate' | 'weightDecay'> = DEFAULT_TRAIN,
  ) {
    // tfjs-core's Node build ships no gradients; the environment set-up (initBackend in Node) registers them.
    if (!tf.getGradient('AddN'))
      throw new Error('tfjs gradients are not registered: call initBackend() (Node) or import @tensorflow/tfjs first');
    this.optimizer = adamForBackend(options);
    this.vars = [...weights.values()];
  }

  setLearningRate(rate: number): void {
    this.optimizer.setLearningRate(rate);
  }

  async step(batch: PatchBatch): Promise<StepLosses> {
    const { config, weights, vars, optimizer } = this;
    // On the CPU backends the loss runs as one pass in JS; on a GPU it stays tfjs ops, where the output lives.
    const lossOf = ['wasm', 'cpu'].includes(tf.getBackend()) ? impartialLossOnCpu : impartialLoss;
    let kept: tf.Tensor[] = [];
    const parts = tf.tidy(() => {
      const t = batchTensors(batch);
      const { value, grads } = tf.variableGrads(() => {
        const terms = lossOf({
          ...t,
          output: forward(config, weights, t.input, { dropout: true }),
          components: config.components,
        });
        kept = [terms.foreground, terms.background, terms.reconstruction].map((x) => tf.keep(x));
        return terms.total;
      }, vars);
      optimizer.apply(vars, grads);
      return tf.stack([value, ...kept]);
    });
    for (const k of kept) k.dispose();
    const [loss, foreground, background, reconstruction] = (await parts.data()) as Float32Array;
    parts.dispose();
    return { loss: loss!, foreground: foreground!, background: background!, reconstruction: reconstruction! };
  }

  /** Adam's state, its moments keyed by weight name (tfjs variable names differ per loaded weight set). */
  async optimizerState(): Promise<AdamState> {
    const state = await this.optimizer.state();
    const moments: AdamState['moments'] = {};
    for (const [name, v] of this.weights) {
      const m = state.moments[v.name];
      if (m) moments[name] = m;
    }
    return { steps: state.steps, moments };
  }

  /** Goes on from a state optimizerState gave (for these same weight names and shapes); throws when it does not fit. */
  async restoreOptimizer(state: AdamState): Promise<void> {
    const names = Object.keys(state.moments);
    const unknown = names.filter((name) => !this.weights.has(name)),
      missing = names.length ? [...this.weights.keys()].filter((name) => !(name in state.moments)) : [];
    if (unknown.length || missing.length)
      throw new Error(
        `the optimiser state does not fit the model: no moments for ${missing.length} weight(s) ` +
          `(${missing.slice(0, 3).join(', ')}), moments of ${unknown.length} unknown ` +
          `(${unknown.slice(0, 3).join(', ')})`,
      );
    const moments: AdamState['moments'] = {};
    for (const [name, v] of this.weights) {
      const m = state.moments[name];
      if (m) moments[v.name] = m;
    }
    await this.optimizer.restore(this.vars, { steps: state.steps, moments });
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

/** The share of the whole budget spent (earlier runs included): the further of steps and seconds. */
function spentShare(o: Pick<TrainOptions, 'steps' | 'seconds' | 'spentBefore'>, step: number, seconds: number): number {
  const before = o.spentBefore ?? { steps: 0, seconds: 0 };
  const share = (done: number, left: number | undefined, earlier: number) =>
    left !== undefined && earlier + left > 0 ? (earlier + done) / (earlier + left) : 0;
  return Math.min(1, Math.max(share(step, o.steps, before.steps), share(seconds, o.seconds, before.seconds)));
}

/** Linear decay from 1 to 1/20 over the budget. */
export function decayFactor(spent: number): number {
  return 1 - 0.95 * Math.min(1, Math.max(0, spent));
}

/**
 * Trains (or fine-tunes: pass earlier weights) with the ImPartial losses and Adam, until the step
 * or time budget is spent or the signal aborts. Weights are updated in place.
 */
export async function train(
  config: UNetConfig,
  weights: UNetWeights,
  sampler: BatchSource,
  options: Partial<TrainOptions> = {},
): Promise<TrainResult> {
  const o = { ...DEFAULT_TRAIN, ...options };
  if (o.steps === undefined && o.seconds === undefined) throw new Error('train needs a step or time budget');
  if (!sampler.hasScribbles)
    throw new Error('no scribbles to train on: draw at least one foreground and one background stroke');
  if (sampler.channels !== config.inChannels)
    throw new Error(`the model reads ${config.inChannels} channels but the images have ${sampler.channels}`);
  if (o.seed !== undefined) seedDropoutMasks(o.seed);
  const trainer = new Trainer(config, weights, o);
  if (o.optimizerState) {
    try {
      await trainer.restoreOptimizer(o.optimizerState);
    } catch (e) {
      trainer.dispose();
      throw e;
    }
  }
  const losses: number[] = [];
  const start = performance.now();
  let step = 0,
    cancelled = false,
    paused = 0;
  const elapsed = () => (performance.now() - start - paused) / 1000;
  const checkpoints = [...(o.checkpoints ?? [])].sort((a, b) => a - b);
  try {
    while ((o.steps === undefined || step < o.steps) && (o.seconds === undefined || elapsed() < o.seconds)) {
      if (o.signal?.aborted) {
        cancelled = true;
        break;
      }
      if (o.decay) trainer.setLearningRate(o.learningRate * decayFactor(spentShare(o, step, elapsed())));
      const l = await trainer.step(sampler.batch(o.batchSize));
      if (!Number.isFinite(l.loss)) throw new Error(`training diverged at step ${step + 1} (loss ${l.loss})`);
      step++;
      losses.push(l.loss);
      if (o.onProgress) {
        const t = elapsed(),
          rate = step / t;
        const etaSteps = o.steps !== undefined ? (o.steps - step) / rate : Infinity;
        const etaTime = o.seconds !== undefined ? Math.max(0, o.seconds - t) : Infinity;
        o.onProgress({
          step,
          ...(o.steps !== undefined ? { totalSteps: o.steps } : {}),
          loss: l.loss,
          lossForeground: l.foreground,
          lossBackground: l.background,
          lossReconstruction: l.reconstruction,
          stepsPerSecond: rate,
          elapsedSeconds: t,
          etaSeconds: Math.min(etaSteps, etaTime),
        });
      }
      const everySteps = o.checkpointEvery !== undefined && step % o.checkpointEvery === 0;
      let due = everySteps;
      while (checkpoints.length && elapsed() >= checkpoints[0]!) {
        checkpoints.shift();
        due = true;
      }
      if (due) {
        const t = elapsed(),
          pauseStart = performance.now();
        await o.onCheckpoint?.(t, step, () => trainer.optimizerState());
        paused += performance.now() - pauseStart;
      }
      if (o.afterStep) {
        const pauseStart = performance.now();
        await o.afterStep(step);
        paused += performance.now() - pauseStart;
      }
    }
  } finally {
    trainer.dispose();
  }
  return { steps: step, seconds: elapsed(), losses, cancelled };
}
