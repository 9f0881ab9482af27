// Tests of shared/src/engine/losses.ts: the ImPartial loss terms and weights, the scribble loss.
import assert from 'node:assert/strict';
import test from 'node:test';
import { impartialLoss, LOSS_WEIGHTS, scribbleLoss } from '@impartial/shared';
import { initBackend } from '@impartial/shared/node';
import * as tf from '@tensorflow/tfjs-core';

await initBackend();

const close = (actual: number, expected: number, tol = 1e-5) =>
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${actual} != ${expected}`);

// One patch, 1x2 pixels, components [1, 1], one channel: output channels = K + K*C = 4.
// pixel a: logits (0, 0) -> pi = (0.5, 0.5); pixel b: logits (ln 3, 0) -> pi = (0.75, 0.25)
// mean maps: component 0 = (1, 3), component 1 = (2, 2)
// mu0 = (0.5*1 + 0.75*3) / 1.25 = 2.2, mu1 = (0.5*2 + 0.25*2) / 0.75 = 2
// xhat(b) = 0.75*2.2 + 0.25*2 = 2.15; target(b) = 3; blind spot at b only
// NLL = 0.5 * 0.85^2 + 0.5 ln(2 pi) = 1.2801885
function tinyCase() {
  const output = tf.tensor4d([0, 0, 1, 2, Math.log(3), 0, 3, 2], [1, 1, 2, 4]);
  return {
    output,
    target: tf.tensor4d([2, 3], [1, 1, 2, 1]),
    blindMask: tf.tensor4d([0, 1], [1, 1, 2, 1]),
    foreground: tf.tensor3d([1, 0], [1, 1, 2]),
    background: tf.tensor3d([0, 1], [1, 1, 2]),
    components: [1, 1] as [number, number],
  };
}

test('ImPartial loss terms match a hand computation', async () => {
  const terms = impartialLoss(tinyCase());
  const [total, fg, bg, rec] = await Promise.all(
    [terms.total, terms.foreground, terms.background, terms.reconstruction].map(async (t) => (await t.data())[0]!),
  );
  close(fg!, Math.log(2));
  close(bg!, Math.log(4));
  const nll = 0.5 * 0.85 ** 2 + 0.5 * Math.log(2 * Math.PI);
  close(rec!, nll);
  close(
    total!,
    LOSS_WEIGHTS.foreground * Math.log(2) + LOSS_WEIGHTS.background * Math.log(4) + LOSS_WEIGHTS.reconstruction * nll,
  );
});

test('ImPartial weights are 0.45 / 0.45 / 0.1', () => {
  assert.deepEqual({ ...LOSS_WEIGHTS }, { foreground: 0.45, background: 0.45, reconstruction: 0.1 });
});

test('scribble loss averages over scribbled pixels, then over patches that have any', async () => {
  // patch 0: two scribbled pixels with log p = -1, -3 -> 2; patch 1: none -> ignored
  const logP = tf.tensor3d([-1, -3, -7, -9], [2, 1, 2]);
  const mask = tf.tensor3d([1, 1, 0, 0], [2, 1, 2]);
  close((await scribbleLoss(logP, mask).data())[0]!, 2);
  // no scribbles at all -> 0, not NaN
  close((await scribbleLoss(logP, tf.zerosLike(mask) as tf.Tensor3D).data())[0]!, 0);
});

test('the loss has a gradient for every output channel that matters', async () => {
  const c = tinyCase();
  const g = tf.grad((o: tf.Tensor) => impartialLoss({ ...c, output: o as tf.Tensor4D }).total)(c.output);
  const values = await g.data();
  assert.ok(values.every(Number.isFinite));
  assert.ok(Math.abs(values[0]!) > 1e-3, 'logit of pixel a gets a gradient');
  assert.ok(Math.abs(values[6]!) > 1e-6, 'mean map of component 0 at b gets a gradient');
});
