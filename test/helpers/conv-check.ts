import assert from 'node:assert/strict';
import test from 'node:test';
import type { BackendInfo } from '@impartial/shared/node';
import * as tf from '@tensorflow/tfjs-core';

type Shape4 = [number, number, number, number];
interface Case {
  x: Shape4;
  k: number;
  cout: number;
  pad: 'same' | 'valid';
  stride?: number;
}

/** conv(x, w), and the gradients of sum(conv(x, w) * dy) w.r.t. x and w, on the current backend. */
async function convAndGrads(c: Case, x: number[], w: number[], dySeed: number) {
  const X = tf.tensor4d(x, c.x),
    W = tf.tensor4d(w, [c.k, c.k, c.x[3], c.cout]);
  const stride = c.stride ?? 1;
  const y = tf.conv2d(X, W, stride, c.pad);
  const dy = tf.tensor(rand(y.size, dySeed), y.shape);
  const f = (a: tf.Tensor, b: tf.Tensor) =>
    tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, c.pad), dy));
  const [gx, gw] = tf.grads(f)([X, W]);
  return { y: await y.data(), dx: await gx!.data(), dw: await gw!.data() };
}

/** Largest absolute difference over the largest reference magnitude. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0,
    den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / Math.max(den, 1e-12);
}

/** Deterministic values in [-0.5, 0.5] for kernel checks. */
export const rand = (n: number, seed: number) =>
  Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i * 12.9898) * 0.5);

const CASES: Case[] = [
  { x: [2, 9, 7, 3], k: 3, cout: 5, pad: 'same' },
  { x: [1, 8, 8, 16], k: 3, cout: 4, pad: 'same' },
  { x: [3, 6, 5, 2], k: 3, cout: 2, pad: 'valid' },
  { x: [1, 12, 10, 5], k: 3, cout: 7, pad: 'same' },
  { x: [2, 16, 16, 32], k: 3, cout: 16, pad: 'same' },
  { x: [1, 9, 9, 4], k: 1, cout: 3, pad: 'same' },
  // Strided: forward and gradients (the wasm rewrites fall back to tfjs here, oneDNN does them).
  { x: [2, 10, 9, 3], k: 3, cout: 4, pad: 'same', stride: 2 },
];

/**
 * Conv2D and its two gradients on the current backend (`what` names its kernels) against tfjs' cpu
 * backend, to 1e-4 relative.
 */
export function convKernelTests(info: BackendInfo, what: string): void {
  for (const c of CASES) {
    const shape = `x ${c.x.join('x')}, ${c.k}x${c.k} -> ${c.cout}, ${c.pad}, stride ${c.stride ?? 1}`;
    test(`${what}: conv, dX and dW match the cpu backend (${shape})`, async () => {
      const x = rand(
          c.x.reduce((a, b) => a * b, 1),
          1,
        ),
        w = rand(c.k * c.k * c.x[3] * c.cout, 2);
      const ours = await convAndGrads(c, x, w, 3);
      await tf.setBackend('cpu');
      try {
        const reference = await convAndGrads(c, x, w, 3);
        for (const k of ['y', 'dx', 'dw'] as const)
          assert.ok(
            relativeError(ours[k], reference[k]) < 1e-4,
            `${k} relative error ${relativeError(ours[k], reference[k])}`,
          );
      } finally {
        await tf.setBackend(info.name);
      }
    });
  }
}
