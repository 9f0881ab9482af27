// Tests of shared/src/engine/train.ts: training a U-Net on scribbles (train).
import assert from 'node:assert/strict';
import test from 'node:test';
import {
  DEFAULT_UNET,
  decayFactor,
  disposeWeights,
  initWeights,
  normalizeImage,
  PatchSampler,
  synthesizeScribbles,
  syntheticCells,
  TRAINING_DEFAULTS,
  Trainer,
  type TrainProgress,
  train,
  type UNetConfig,
  type UNetWeights,
} from '@impartial/shared';
import { initBackend } from '@impartial/shared/node';
import * as tf from '@tensorflow/tfjs-core';

await initBackend();

// Small round cells with bright nuclei: a task a tiny net learns within a few dozen steps.
const sample = syntheticCells({ width: 96, height: 96, channels: 2, seed: 4, clustered: 0 });
const image = normalizeImage(sample.image);
const scribbles = synthesizeScribbles(sample.labels, { fraction: 0.5, seed: 4 }).scribbles;
const config: UNetConfig = { ...DEFAULT_UNET, inChannels: 2, depth: 2, base: 8 };
const sampler = (seed = 0) => new PatchSampler([image], [scribbles], { patch: 32, seed });

test('training lowers the loss, reports progress and leaks no tensors', async () => {
  const weights = initWeights(config, 1);
  const before = tf.memory().numTensors;
  const progress: TrainProgress[] = [];
  const r = await train(config, weights, sampler(), {
    steps: 60,
    batchSize: 4,
    learningRate: 2e-3,
    onProgress: (p) => progress.push(p),
  });
  assert.equal(r.steps, 60);
  assert.equal(r.cancelled, false);
  const head = r.losses.slice(0, 10).reduce((s, v) => s + v, 0) / 10,
    tail = r.losses.slice(-10).reduce((s, v) => s + v, 0) / 10;
  assert.ok(tail < head * 0.8, `loss ${head.toFixed(3)} -> ${tail.toFixed(3)}`);
  assert.equal(progress.length, 60);
  const last = progress[59]!;
  assert.equal(last.step, 60);
  assert.equal(last.totalSteps, 60);
  assert.ok(last.stepsPerSecond > 0 && Number.isFinite(last.etaSeconds));
  for (const key of ['lossForeground', 'lossBackground', 'lossReconstruction'] as const)
    assert.ok(Number.isFinite(last[key]));
  assert.equal(tf.memory().numTensors, before, 'no tensors leak per step');
});

test('an AbortSignal stops training between steps', async () => {
  const weights = initWeights(config, 2);
  const ctrl = new AbortController();
  const r = await train(config, weights, sampler(), {
    steps: 1000,
    onProgress: (p) => {
      if (p.step === 3) ctrl.abort();
    },
    signal: ctrl.signal,
  });
  assert.equal(r.cancelled, true);
  assert.equal(r.steps, 3);
});

test('a time budget ends training once it is spent', async () => {
  // How long the steps take is for `npm run bench`; this checks where training stops: at the first
  // step that ends past the budget, never before it is spent.
  const progress: TrainProgress[] = [];
  const r = await train(config, initWeights(config, 3), sampler(), {
    seconds: 0.5,
    onProgress: (p) => progress.push(p),
  });
  assert.ok(r.steps >= 1);
  assert.equal(r.cancelled, false);
  assert.equal(progress.length, r.steps, 'each step reported');
  assert.ok(r.seconds >= 0.5, `stopped only once the budget was spent (${r.seconds} s)`);
  assert.ok(
    progress.slice(0, -1).every((p) => p.elapsedSeconds < 0.5),
    'every step but the last began and ended within the budget',
  );
  assert.equal(progress.at(-1)!.totalSteps, undefined, 'no step budget was planned');
});

test('fine-tuning continues from earlier weights', async () => {
  const weights = initWeights(config, 5);
  const first = await train(config, weights, sampler(1), { steps: 30, learningRate: 2e-3 });
  const again = await train(config, weights, sampler(1), { steps: 5, learningRate: 2e-3 });
  const fresh = await train(config, initWeights(config, 5), sampler(1), { steps: 5, learningRate: 2e-3 });
  const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
  assert.ok(mean(again.losses) < mean(fresh.losses), `fine-tuned ${mean(again.losses)} vs fresh ${mean(fresh.losses)}`);
  assert.ok(mean(again.losses) < mean(first.losses.slice(0, 5)));
});

test('training refuses what it cannot use', async () => {
  const empty = { width: 96, height: 96, data: new Int32Array(96 * 96) };
  await assert.rejects(
    train(config, initWeights(config, 0), new PatchSampler([image], [empty]), { steps: 1 }),
    /no scribbles/,
  );
  await assert.rejects(
    train({ ...config, inChannels: 3 }, initWeights({ ...config, inChannels: 3 }, 0), sampler(), { steps: 1 }),
    /reads 3 channels but the images have 2/,
  );
  await assert.rejects(train(config, initWeights(config, 0), sampler(), {}), /step or time budget/);
});

/** The largest difference between two weight sets. */
const gap = (a: UNetWeights, b: UNetWeights) =>
  Math.max(...[...a.keys()].map((k) => tf.max(tf.abs(tf.sub(a.get(k)!, b.get(k)!))).dataSync()[0]!));

test('decay: the step size falls linearly over the budget, as a trainer stepped by hand with those rates', async () => {
  assert.equal(decayFactor(0), 1);
  assert.ok(Math.abs(decayFactor(0.5) - 0.525) < 1e-12);
  assert.ok(Math.abs(decayFactor(1) - 0.05) < 1e-12);
  assert.ok(Math.abs(decayFactor(3) - 0.05) < 1e-12, 'past the budget it stays at a twentieth');
  // No dropout, so both runs take the same steps on the same batches.
  const still: UNetConfig = { ...config, dropout: 0 };
  const steps = 6,
    learningRate = 3e-3;
  const decayed = initWeights(still, 2);
  await train(still, decayed, sampler(5), { steps, batchSize: 2, learningRate, decay: true });
  const byHand = initWeights(still, 2),
    trainer = new Trainer(still, byHand, { learningRate, weightDecay: TRAINING_DEFAULTS.weightDecay }),
    batches = sampler(5);
  for (let k = 0; k < steps; k++) {
    trainer.setLearningRate(learningRate * decayFactor(k / steps));
    await trainer.step(batches.batch(2));
  }
  trainer.dispose();
  const constant = initWeights(still, 2);
  await train(still, constant, sampler(5), { steps, batchSize: 2, learningRate, decay: false });
  assert.ok(gap(decayed, byHand) < 1e-6, `decayed training = the hand schedule (${gap(decayed, byHand)})`);
  assert.ok(gap(decayed, constant) > 1e-5, `and differs from a constant rate (${gap(decayed, constant)})`);
  for (const w of [decayed, byHand, constant]) disposeWeights(w);
});

test('decay after a resume goes on over the whole budget, from the share an earlier run spent', async () => {
  const still: UNetConfig = { ...config, dropout: 0 };
  const learningRate = 3e-3;
  // Three steps left of six: the rates of steps 3, 4 and 5 of the whole budget, not a fresh decay over three.
  const resumed = initWeights(still, 4);
  await train(still, resumed, sampler(6), {
    steps: 3,
    batchSize: 2,
    learningRate,
    decay: true,
    spentBefore: { steps: 3, seconds: 0 },
  });
  const byHand = initWeights(still, 4),
    trainer = new Trainer(still, byHand, { learningRate, weightDecay: TRAINING_DEFAULTS.weightDecay }),
    batches = sampler(6);
  for (let k = 3; k < 6; k++) {
    trainer.setLearningRate(learningRate * decayFactor(k / 6));
    await trainer.step(batches.batch(2));
  }
  trainer.dispose();
  const fresh = initWeights(still, 4);
  await train(still, fresh, sampler(6), { steps: 3, batchSize: 2, learningRate, decay: true });
  assert.ok(gap(resumed, byHand) < 1e-6, `resumed decay = the hand schedule (${gap(resumed, byHand)})`);
  assert.ok(gap(resumed, fresh) > 1e-5, `and differs from a decay over three steps (${gap(resumed, fresh)})`);
  for (const w of [resumed, byHand, fresh]) disposeWeights(w);
});

test('a seed repeats a step-budget training, dropout masks included; another seed draws other masks', async () => {
  const run = async (seed: number) => {
    const weights = initWeights(config, 5);
    await train(config, weights, sampler(7), { steps: 5, batchSize: 2, learningRate: 3e-3, seed });
    return weights;
  };
  const first = await run(3),
    again = await run(3),
    other = await run(4);
  assert.equal(gap(first, again), 0, 'the same seed trains to the same weights');
  assert.ok(gap(first, other) > 1e-5, `another seed's masks give other weights (${gap(first, other)})`);
  for (const w of [first, again, other]) disposeWeights(w);
});
