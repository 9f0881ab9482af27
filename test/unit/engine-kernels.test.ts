import assert from 'node:assert/strict';
import test from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@impartial/shared/node';

const info = await initBackend();

/** Gradients of sum(conv(x, w) * dy) w.r.t. x and w on the current backend. */
async function convGrads(x: number[], xShape: [number, number, number, number], w: number[], wShape: [number, number, number, number], dy: number[], pad: 'same' | 'valid') {
  const X = tf.tensor4d(x, xShape), W = tf.tensor4d(w, wShape);
  const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, pad), tf.tensor(dy, tf.conv2d(X, W, 1, pad).shape)));
  const [gx, gw] = tf.grads(f)([X, W]);
  return { dx: await gx!.data(), dw: await gw!.data() };
}

function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) { num = Math.max(num, Math.abs(a[i]! - b[i]!)); den = Math.max(den, Math.abs(b[i]!)); }
  return num / Math.max(den, 1e-12);
}

const rand = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i * 12.9898) * 0.5);

for (const [shape, pad] of [[[2, 9, 7, 3, 5], 'same'], [[1, 8, 8, 16, 4], 'same'], [[3, 6, 5, 2, 2], 'valid'], [[1, 12, 10, 5, 7], 'same']] as const) {
  const [n, h, w, cin, cout] = shape;
  test(`registered conv gradient kernels match the cpu backend (${shape.join('x')}, ${pad})`, { skip: info.name !== 'wasm' ? `backend is ${info.name}` : false }, async () => {
    const k = 3;
    const x = rand(n * h * w * cin, 1), wt = rand(k * k * cin * cout, 2);
    const outH = pad === 'same' ? h : h - k + 1, outW = pad === 'same' ? w : w - k + 1;
    const dy = rand(n * outH * outW * cout, 3);
    const ours = await convGrads(x, [n, h, w, cin], wt, [k, k, cin, cout], dy, pad);
    await tf.setBackend('cpu');
    try {
      const reference = await convGrads(x, [n, h, w, cin], wt, [k, k, cin, cout], dy, pad);
      assert.ok(relativeError(ours.dw, reference.dw) < 1e-4, `dW relative error ${relativeError(ours.dw, reference.dw)}`);
      assert.ok(relativeError(ours.dx, reference.dx) < 1e-4, `dX relative error ${relativeError(ours.dx, reference.dx)}`);
    } finally {
      await tf.setBackend(info.name);
    }
  });
}

test('initBackend picks wasm on a machine without a GPU and says so', () => {
  assert.equal(info.name, 'wasm');
  assert.match(info.description, /^wasm \((SIMD|no SIMD), \d+ threads?\)$/);
});
