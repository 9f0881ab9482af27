// Tests of Adam's saved state (shared/src/engine/adam.ts, train.ts): a training stopped and resumed
// from its optimiser state goes on as if it had never stopped.
import assert from 'node:assert/strict';
import test from 'node:test';
import {
  CpuAdam,
  DEFAULT_UNET,
  disposeWeights,
  initWeights,
  normalizeImage,
  type PatchBatch,
  PatchSampler,
  synthesizeScribbles,
  syntheticCells,
  TfjsAdam,
  Trainer,
  train,
  type UNetConfig,
  type UNetWeights,
  type WeightUpdate,
} from '@impartial/shared';
import { initBackend } from '@impartial/shared/node';
import * as tf from '@tensorflow/tfjs-core';

type AdamState = Awaited<ReturnType<WeightUpdate['state']>>;

await initBackend();

// No dropout: its masks are drawn anew each run, and the runs compared here must see the same steps.
const config: UNetConfig = { ...DEFAULT_UNET, inChannels: 2, depth: 2, base: 4, dropout: 0 };
const sample = syntheticCells({ width: 64, height: 64, channels: 2, seed: 9, clustered: 0 });
const patches = new PatchSampler(
  [normalizeImage(sample.image)],
  [synthesizeScribbles(sample.labels, { fraction: 0.5, seed: 9 }).scribbles],
  { patch: 32, seed: 3 },
);
const N = 8,
  K = 3;
const batches = Array.from({ length: N }, () => patches.batch(2));

/** A sampler that hands out the given batches in turn, so every run sees the same data. */
function replay(list: PatchBatch[]): PatchSampler {
  let next = 0;
  return {
    hasScribbles: true,
    channels: config.inChannels,
    batch: () => list[next++]!,
  } as unknown as PatchSampler;
}

const options = { batchSize: 2, learningRate: 1e-2, weightDecay: 1e-3, decay: true };
const values = (w: UNetWeights) => new Map([...w].map(([name, v]) => [name, v.dataSync().slice()]));
function maxDifference(a: UNetWeights, b: UNetWeights): number {
  let worst = 0;
  const other = values(b);
  for (const [name, xs] of values(a)) {
    const ys = other.get(name)!;
    for (let i = 0; i < xs.length; i++) worst = Math.max(worst, Math.abs(xs[i]! - ys[i]!));
  }
  return worst;
}

test('a training resumed with its optimiser state ends where the uninterrupted one does', async () => {
  assert.ok(['wasm', 'cpu'].includes(tf.getBackend()), `CpuAdam's backends (got ${tf.getBackend()})`);
  const straight = initWeights(config, 11);
  await train(config, straight, replay(batches), { ...options, steps: N });

  // The same budget, interrupted after the checkpoint at step K, which saved Adam's state ...
  const resumed = initWeights(config, 11);
  let saved: AdamState | null = null;
  const interrupt = new AbortController();
  const first = await train(config, resumed, replay(batches), {
    ...options,
    steps: N,
    checkpointEvery: K,
    signal: interrupt.signal,
    onCheckpoint: async (_t, _step, state) => {
      saved = await state();
      interrupt.abort();
    },
  });
  assert.equal(first.steps, K, 'interrupted after the checkpoint');
  assert.ok(saved, 'the checkpoint handed out the optimiser state');
  const state = saved as AdamState;
  assert.equal(state.steps, K);
  assert.deepEqual(Object.keys(state.moments).sort(), [...resumed.keys()].sort(), 'keyed by weight name');
  // ... then N - K more on a new Trainer (and optimiser), with weights of another tfjs name prefix.
  const carried = initWeights(config, 0);
  for (const [name, v] of resumed) carried.get(name)!.assign(v);
  await train(config, carried, replay(batches.slice(K)), {
    ...options,
    steps: N - K,
    optimizerState: state,
    // The step size decays over the whole budget, from the share the first run spent.
    spentBefore: { steps: K, seconds: 0 },
  });
  const gap = maxDifference(straight, carried);
  assert.ok(gap < 1e-6, `resumed weights within ${gap} of the uninterrupted run's`);

  // Without the state (fresh moments, bias correction from step 0) the same steps end elsewhere.
  const fresh = initWeights(config, 0);
  for (const [name, v] of resumed) fresh.get(name)!.assign(v);
  await train(config, fresh, replay(batches.slice(K)), {
    ...options,
    steps: N - K,
    spentBefore: { steps: K, seconds: 0 },
  });
  const freshGap = maxDifference(straight, fresh);
  assert.ok(freshGap > 1e-4, `fresh moments end elsewhere (${freshGap})`);
  for (const w of [straight, resumed, carried, fresh]) disposeWeights(w);
});

/** Two small variables and deterministic gradients for step `step`. */
function variables(tag: string): tf.Variable[] {
  return [
    [3, 4],
    [5, 1],
  ].map(([r, c], i) =>
    tf.variable(
      tf.tensor2d(
        Array.from({ length: r! * c! }, (_, k) => Math.sin(i * 31 + k)),
        [r!, c!],
      ),
      true,
      `${tag}-${i}-${Math.random()}`,
    ),
  );
}
function gradients(vars: tf.Variable[], step: number): Record<string, tf.Tensor> {
  const grads: Record<string, tf.Tensor> = {};
  vars.forEach((v, i) => {
    grads[v.name] = tf.tensor(
      Array.from({ length: v.size }, (_, k) => Math.cos(step * 7 + i * 13 + k) * (step + 1)),
      v.shape,
    );
  });
  return grads;
}

test("tfjs' Adam state round-trips: a restored optimiser takes the original's next step", async () => {
  const vars = variables('tfjs-state');
  const options = { learningRate: 0.01, weightDecay: 0.1 };
  const original = new TfjsAdam(options);
  assert.deepEqual(await original.state(), { steps: 0, moments: {} });
  for (let step = 0; step < 4; step++) {
    const grads = gradients(vars, step);
    original.apply(vars, grads);
    tf.dispose(Object.values(grads));
  }
  const before = tf.memory().numTensors;
  const state = await original.state();
  assert.equal(state.steps, 4);
  assert.deepEqual(Object.keys(state.moments), [vars[0]!.name, vars[1]!.name]);
  assert.ok(
    state.moments[vars[1]!.name]!.v.every((x) => x > 0),
    'second moments read back',
  );

  const start = vars.map((v) => v.clone());
  const next = gradients(vars, 4);
  original.apply(vars, next);
  const expected = vars.map((v) => Array.from(v.dataSync()));

  // The same next step from the restored state, in tfjs' optimiser and in the per-array loop.
  for (const restored of [new TfjsAdam(options), new CpuAdam(options)]) {
    vars.forEach((v, i) => {
      v.assign(start[i]!);
    });
    await restored.restore(vars, state);
    restored.apply(vars, next);
    vars.forEach((v, i) => {
      const got = v.dataSync();
      for (const [k, x] of expected[i]!.entries())
        assert.ok(Math.abs(got[k]! - x) < 1e-6, `${restored.constructor.name} ${i}[${k}]: ${got[k]} vs ${x}`);
    });
    restored.dispose();
  }
  tf.dispose([...start, ...Object.values(next)]);
  assert.equal(tf.memory().numTensors, before, 'restoring leaks no tensors');
  original.dispose();
  tf.dispose(vars);
});

test('a state for other variables or sizes is refused', async () => {
  const vars = variables('mismatch');
  const state: AdamState = {
    steps: 2,
    moments: Object.fromEntries(
      vars.map((v) => [v.name, { m: new Float32Array(v.size), v: new Float32Array(v.size) }]),
    ),
  };
  const options = { learningRate: 0.01, weightDecay: 0 };
  for (const make of [() => new CpuAdam(options), () => new TfjsAdam(options)]) {
    const adam = make();
    await adam.restore(vars, state);
    await assert.rejects(
      adam.restore(vars.slice(1), state),
      /does not match the model: 0 variable\(s\) missing.*1 unknown/,
    );
    await assert.rejects(adam.restore(variables('other'), state), /2 variable\(s\) missing/);
    const short = {
      ...state,
      moments: { ...state.moments, [vars[0]!.name]: { m: new Float32Array(3), v: new Float32Array(3) } },
    };
    await assert.rejects(adam.restore(vars, short), /has 3\/3 values, the variable 12/);
    adam.dispose();
  }
  tf.dispose(vars);

  // A Trainer refuses a state of another model (a depth-1 net has other weights).
  const trainer = new Trainer(config, initWeights(config, 1));
  const other = new Trainer({ ...config, depth: 1 }, initWeights({ ...config, depth: 1 }, 1));
  await other.step(batches[0]!);
  await assert.rejects(trainer.restoreOptimizer(await other.optimizerState()), /does not fit the model/);
  trainer.dispose();
  other.dispose();
});
