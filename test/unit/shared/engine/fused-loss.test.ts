// Tests of shared/src/engine/fused-loss.ts: the loss and its gradient computed in one pass on the
// CPU give what impartialLoss and tfjs' autodiff give, with the JavaScript pass and with the native
// one (the oneDNN addon's lossPass and lossGradient, when it is built here).
import assert from 'node:assert/strict';
import test from 'node:test';
import { impartialLoss, impartialLossOnCpu, type LossInputs, Random, useNativeLoss } from '@impartial/shared';
import { initBackend, loadNativeKernels } from '@impartial/shared/node';
import * as tf from '@tensorflow/tfjs-core';

await initBackend();
const addon = loadNativeKernels();
const native =
  typeof addon !== 'string' && addon.lossPass && addon.lossGradient
    ? { lossPass: addon.lossPass, lossGradient: addon.lossGradient }
    : undefined;
const noNative = typeof addon === 'string' ? `the addon is not built here: ${addon}` : 'this addon build has no loss';
const passes = [
  { pass: 'JavaScript', use: () => useNativeLoss(null), skip: false as const },
  { pass: 'native', use: () => useNativeLoss(native ?? null), skip: native ? false : noNative },
];

/** A batch of random outputs, targets, blind spots and scribbles (some patches without any scribble). */
function randomInputs(seed: number, components: [number, number], C: number): LossInputs {
  const rng = new Random(seed);
  const [N, H, W] = [3, 8, 6];
  const K = components[0] + components[1];
  const fill = (n: number, f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));
  const pixels = N * H * W;
  return {
    output: tf.tensor4d(
      fill(pixels * K * (1 + C), () => rng.uniform(-3, 3)),
      [N, H, W, K * (1 + C)],
    ),
    target: tf.tensor4d(
      fill(pixels * C, () => rng.uniform(0, 1)),
      [N, H, W, C],
    ),
    blindMask: tf.tensor4d(
      fill(pixels * C, (i) => (i % 5 === 0 || rng.uniform(0, 1) < 0.2 ? 1 : 0)),
      [N, H, W, C],
    ),
    // Patch 2 has no cell scribble; patch 0 no background scribble.
    foreground: tf.tensor3d(
      fill(pixels, (i) => (i < 2 * H * W && rng.uniform(0, 1) < 0.3 ? 1 : 0)),
      [N, H, W],
    ),
    background: tf.tensor3d(
      fill(pixels, (i) => (i >= H * W && rng.uniform(0, 1) < 0.3 ? 1 : 0)),
      [N, H, W],
    ),
    components,
  };
}

function maxRelDiff(a: Float32Array | number[], b: Float32Array | number[]): number {
  let scale = 1e-6,
    d = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]!));
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
  }
  return d / scale;
}

for (const { pass, use, skip } of passes) {
  for (const [components, C] of [
    [[2, 2], 2],
    [[1, 3], 1],
    [[2, 2], 5],
  ] as Array<[[number, number], number]>) {
    test(`${pass} pass: the fused loss and its gradient match the tfjs ops (components ${components}, ${C} channels)`, {
      skip,
    }, () => {
      use();
      const inputs = randomInputs(7 + C, components, C);
      const names = ['total', 'foreground', 'background', 'reconstruction'] as const;
      for (const name of names) {
        const ops = impartialLoss(inputs)[name].dataSync()[0]!;
        const fused = impartialLossOnCpu(inputs)[name].dataSync()[0]!;
        assert.ok(Math.abs(ops - fused) <= 1e-5 * Math.max(1, Math.abs(ops)), `${name}: ${fused} vs ${ops}`);
        const gradOps = tf.grad((o: tf.Tensor) => impartialLoss({ ...inputs, output: o as tf.Tensor4D })[name]);
        const gradFused = tf.grad((o: tf.Tensor) => impartialLossOnCpu({ ...inputs, output: o as tf.Tensor4D })[name]);
        const d = maxRelDiff(
          gradFused(inputs.output).dataSync() as Float32Array,
          gradOps(inputs.output).dataSync() as Float32Array,
        );
        assert.ok(d <= 1e-4, `gradient of ${name}: relative difference ${d}`);
      }
    });
  }
}

test('native pass: buffers handed on between steps do not carry one batch into the next', {
  skip: passes[1]!.skip,
}, () => {
  // Each gradient's buffers serve the next pass: batches of alternating content, and a pass
  // whose gradient is never asked for in between, must each still get their own gradient.
  const batches = [randomInputs(21, [2, 2], 2), randomInputs(22, [2, 2], 2), randomInputs(23, [2, 2], 2)];
  const gradOf = (inputs: LossInputs) =>
    tf.grad((o: tf.Tensor) => impartialLossOnCpu({ ...inputs, output: o as tf.Tensor4D }).total)(inputs.output);
  useNativeLoss(null);
  const expected = batches.map((b) => gradOf(b).dataSync() as Float32Array);
  useNativeLoss(native!);
  for (const k of [0, 1, 0, 2, 2, 1]) {
    impartialLossOnCpu(batches[(k + 1) % 3]!).total.dataSync(); // a forward pass only
    const d = maxRelDiff(gradOf(batches[k]!).dataSync() as Float32Array, expected[k]!);
    assert.ok(d <= 1e-6, `batch ${k}: relative difference ${d} from the JavaScript pass`);
  }
});

test('the native pass and gradient refuse arrays of the wrong size or type, naming them', {
  skip: passes[1]!.skip,
}, () => {
  const f = (n: number) => new Float32Array(n),
    d = (n: number) => new Float64Array(n);
  const [N, P, C, K] = [1, 4, 2, 4];
  type Inputs = [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, number[]];
  const args = (): Inputs => [f(N * P * K * (1 + C)), f(N * P * C), f(N * P * C), f(N * P), f(N * P), [N, P, C, 2, 2]];
  const outs = () => [d(N * P * K), d(N * P), d(N * P), d(N * P * K), d(N * P * K * C), d(3)] as const;
  assert.doesNotThrow(() => native!.lossPass(...args(), ...outs()));
  const [o, t, blind, fg, bg, dims] = args();
  assert.throws(
    () => native!.lossPass(o, t, blind, fg, f(3), dims, ...outs()),
    /o, t, blind, fg and bg must be Float32Arrays/,
  );
  const [pi, dCell, dBack, dPiRec, dMeans] = outs();
  assert.throws(
    () => native!.lossPass(...args(), pi, dCell, dBack, dPiRec, dMeans, d(2)),
    /pi, dCell, dBackground, dPiRec, dMeans and terms must be Float64Arrays/,
  );
  assert.throws(
    () => native!.lossPass(o, t, blind, fg, bg, [N, P, C, 0, 4], ...outs()),
    /dims = \[N, P, C, Kf, Kb\], each >= 1/,
  );
  const factors = new Float64Array(3);
  assert.doesNotThrow(() => native!.lossGradient(pi, dCell, dBack, dPiRec, dMeans, dims, factors, f(N * P * K * 3)));
  assert.throws(
    () => native!.lossGradient(pi, dCell, dBack, dPiRec, dMeans, dims, factors, f(N * P * K)),
    /out a Float32Array, of the sizes the dims give/,
  );
  assert.throws(
    () => native!.lossGradient(pi, dCell, dBack, dPiRec, dMeans, dims, d(2), f(N * P * K * 3)),
    /factors must be Float64Arrays/,
  );
});

test('an output with the wrong channel count is refused', () => {
  useNativeLoss(native ?? null);
  const inputs = randomInputs(1, [2, 2], 2);
  assert.throws(
    () => impartialLossOnCpu({ ...inputs, output: tf.zeros([3, 8, 6, 11]) as tf.Tensor4D }),
    /11 channels, the loss expects 12/,
  );
});
