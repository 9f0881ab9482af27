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

/** Rounds to the nearest bfloat16 (ties to even), as oneDNN's reorder does. */
export function toBf16(values: ArrayLike<number>): Float32Array {
  const f = Float32Array.from(values);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < u.length; i++) u[i] = ((u[i]! + 0x7fff + ((u[i]! >>> 16) & 1)) & 0xffff0000) >>> 0;
  return f;
}

/**
 * How the kernels under test compute: `values` makes the test's data (bfloat16 kernels get
 * bfloat16 values, so a float32 reference sees what they see), `use` switches the kernels and returns
 * what switches them back.
 */
export interface KernelPrecision {
  values(v: number[]): ArrayLike<number>;
  use(): () => void;
}

/** conv(x, w), and the gradients of sum(conv(x, w) * dy) w.r.t. x and w, on the current backend. */
async function convAndGrads(c: Case, x: ArrayLike<number>, w: ArrayLike<number>, dy: ArrayLike<number>) {
  const X = tf.tensor4d(Float32Array.from(x), c.x),
    W = tf.tensor4d(Float32Array.from(w), [c.k, c.k, c.x[3], c.cout]);
  const stride = c.stride ?? 1;
  const y = tf.conv2d(X, W, stride, c.pad);
  const dY = tf.tensor(dy, y.shape);
  const f = (a: tf.Tensor, b: tf.Tensor) =>
    tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, c.pad), dY));
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
 * backend, to 1e-4 relative; on bfloat16 data when `precision` says so.
 */
export function convKernelTests(info: BackendInfo, what: string, precision?: KernelPrecision): void {
  const values = precision ? (v: number[]) => precision.values(v) : (v: number[]) => v;
  for (const c of CASES) {
    const shape = `x ${c.x.join('x')}, ${c.k}x${c.k} -> ${c.cout}, ${c.pad}, stride ${c.stride ?? 1}`;
    test(`${what}: conv, dX and dW match the cpu backend (${shape})`, async (t) => {
      if (precision) t.after(precision.use());
      const x = values(
          rand(
            c.x.reduce((a, b) => a * b, 1),
            1,
          ),
        ),
        w = values(rand(c.k * c.k * c.x[3] * c.cout, 2));
      const outPixels = (n: number) => Math.ceil((c.pad === 'valid' ? n - c.k + 1 : n) / (c.stride ?? 1));
      const dy = values(rand(c.x[0] * outPixels(c.x[1]) * outPixels(c.x[2]) * c.cout, 3));
      const ours = await convAndGrads(c, x, w, dy);
      await tf.setBackend('cpu');
      try {
        const reference = await convAndGrads(c, x, w, dy);
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
