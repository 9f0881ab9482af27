// Tests of shared/src/engine/fused-loss.ts: the loss and its gradient computed in one pass on the
// CPU give what impartialLoss and tfjs' autodiff give.
import assert from 'node:assert/strict';
import test from 'node:test';
import { impartialLoss, impartialLossOnCpu, type LossInputs, Random } from '@impartial/shared';
import { initBackend } from '@impartial/shared/node';
import * as tf from '@tensorflow/tfjs-core';

await initBackend();

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

for (const [components, C] of [
  [[2, 2], 2],
  [[1, 3], 1],
  [[2, 2], 5],
] as Array<[[number, number], number]>) {
  test(`the fused loss and its gradient match the tfjs ops (components ${components}, ${C} channels)`, () => {
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

test('an output with the wrong channel count is refused', () => {
  const inputs = randomInputs(1, [2, 2], 2);
  assert.throws(
    () => impartialLossOnCpu({ ...inputs, output: tf.zeros([3, 8, 6, 11]) as tf.Tensor4D }),
    /11 channels, the loss expects 12/,
  );
});
