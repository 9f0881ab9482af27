// Tests of shared/src/node/native-kernels.ts: the oneDNN addon's kernels.
import assert from 'node:assert/strict';
import test from 'node:test';
import { convLayerKernel, hasConvLayerKernel } from '@impartial/shared';
import { initBackend, loadNativeKernels } from '@impartial/shared/node';
import * as tf from '@tensorflow/tfjs-core';
import { rand, relativeError, toBf16 } from '../../../helpers/conv-check.js';

// The native kernels besides plain convolutions (backend.test.ts) against tfjs' cpu
// backend: the one-kernel U-Net layer (output and every gradient, ReLU or not, one or two inputs,
// dropout with the same mask), the max-pool gradient and Slice, and a sharing Identity.
const info = await initBackend();
const addon = loadNativeKernels();
const precision = info.nativeKernels && 'precision' in info.nativeKernels ? info.nativeKernels.precision : 'f32';

type Shape4 = [number, number, number, number];
interface Case {
  inputs: Shape4[];
  k: number;
  cout: number;
  relu: boolean;
  dropout: number;
}

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/**
 * The layer's output and the gradients of sum(out * dOut) for every input, filter and bias. With
 * `bf16`, the inputs, filter and dOut are bfloat16 values already, so a float32 reference sees what
 * the bfloat16 kernels see (a ReLU whose input rounding flips its sign would not compare).
 */
async function run(c: Case, layer: (xs: tf.Tensor4D[], f: tf.Tensor4D, b: tf.Tensor1D) => tf.Tensor4D, bf16 = false) {
  const values = (n: number, seed: number) => (bf16 ? toBf16(rand(n, seed)) : rand(n, seed));
  const cin = c.inputs.reduce((s, x) => s + x[3], 0);
  const xs = c.inputs.map((s, i) => tf.tensor4d(values(size(s), 10 + i), s));
  const f = tf.tensor4d(values(c.k * c.k * cin * c.cout, 2), [c.k, c.k, cin, c.cout]),
    b = tf.tensor1d(rand(c.cout, 3));
  const out = layer(xs, f, b);
  const dOut = tf.tensor(values(out.size, 4), out.shape);
  const grads = tf.grads((...t: tf.Tensor[]) =>
    tf.sum(
      tf.mul(
        layer(t.slice(0, -2) as tf.Tensor4D[], t[t.length - 2] as tf.Tensor4D, t[t.length - 1] as tf.Tensor1D),
        dOut,
      ),
    ),
  )([...xs, f, b]);
  return { out: await out.data(), grads: await Promise.all(grads.map((g) => g.data())) };
}

if (typeof addon === 'string') {
  test('one-kernel conv layer', { skip: `addon not built here: ${addon}` }, () => {});
} else {
  test('the native backend registers the one-kernel layer; the cpu backend does not', async () => {
    assert.equal(hasConvLayerKernel(), info.name === 'wasm');
    await tf.setBackend('cpu');
    try {
      assert.equal(hasConvLayerKernel(), false);
    } finally {
      await tf.setBackend(info.name);
    }
  });

  const CASES: Case[] = [
    { inputs: [[2, 8, 6, 3]], k: 3, cout: 5, relu: true, dropout: 0 },
    {
      inputs: [
        [1, 8, 8, 16],
        [1, 8, 8, 16],
      ],
      k: 3,
      cout: 8,
      relu: true,
      dropout: 0,
    },
    {
      inputs: [
        [2, 6, 10, 4],
        [2, 6, 10, 3],
      ],
      k: 3,
      cout: 16,
      relu: true,
      dropout: 0.5,
    },
    { inputs: [[2, 16, 16, 32]], k: 3, cout: 32, relu: true, dropout: 0.3 },
    { inputs: [[1, 9, 7, 16]], k: 1, cout: 12, relu: false, dropout: 0 },
    { inputs: [[1, 5, 5, 2]], k: 3, cout: 3, relu: false, dropout: 0.5 },
  ];
  // float32 convolutions match to 1e-4; bfloat16 ones on bfloat16 data to 4e-3 (the gradient inside the
  // layer, dOut times the dropout scale, is rounded to bfloat16 (2^-9) on its way into the convolutions).
  const PRECISIONS = [
    { bf16: false, tolerance: 1e-4 },
    { bf16: true, tolerance: 4e-3 },
  ];
  for (const [c, p] of CASES.flatMap((c) => PRECISIONS.map((p) => [c, p] as const))) {
    const inputs = c.inputs.map((s) => s.join('x')).join(' + ');
    const name = `${inputs}, ${c.k}x${c.k} -> ${c.cout}, ${c.relu ? 'ReLU' : 'linear'}, dropout ${c.dropout}`;
    const label = p.bf16 ? 'bfloat16 inputs' : 'float32';
    test(`one-kernel conv layer matches tfjs ops on the cpu backend (${name}; ${label})`, async (t) => {
      const seed = 1234;
      addon.setBf16?.(p.bf16);
      t.after(() => addon.setBf16?.(precision === 'bf16'));
      const ours = await run(
        c,
        (xs, f, b) => convLayerKernel(xs, f, b, { relu: c.relu, dropout: c.dropout }, seed),
        p.bf16,
      );
      const outShape = [c.inputs[0]![0], c.inputs[0]![1], c.inputs[0]![2], c.cout];
      const mask = new Float32Array(size(outShape));
      addon.dropoutMask(seed, c.dropout, mask);
      if (c.dropout > 0) {
        const dropped = mask.filter((m) => m === 0).length / mask.length;
        assert.ok(Math.abs(dropped - c.dropout) < 0.1, `dropped ${dropped} of the units for a rate of ${c.dropout}`);
      }
      await tf.setBackend('cpu');
      try {
        const reference = await run(
          c,
          (xs, f, b) => {
            const x = xs.length === 1 ? xs[0]! : tf.concat(xs, 3);
            const a = tf.add(tf.conv2d(x, f, 1, 'same'), b);
            return tf.mul(c.relu ? tf.relu(a) : a, tf.tensor(mask, outShape)) as tf.Tensor4D;
          },
          p.bf16,
        );
        assert.ok(
          relativeError(ours.out, reference.out) < p.tolerance,
          `output relative error ${relativeError(ours.out, reference.out)}`,
        );
        const names = [...c.inputs.map((_, i) => `dx${i}`), 'dFilter', 'dBias'];
        for (const [i, g] of ours.grads.entries()) {
          const error = relativeError(g, reference.grads[i]!);
          assert.ok(error < p.tolerance, `${names[i]} relative error ${error}`);
        }
      } finally {
        await tf.setBackend(info.name);
      }
    });
  }

  test('one-kernel conv layer: each call without a seed draws a new dropout mask', () => {
    const x = tf.ones([1, 8, 8, 4]) as tf.Tensor4D,
      f = tf.ones([1, 1, 4, 4]) as tf.Tensor4D,
      b = tf.zeros([4]) as tf.Tensor1D;
    const a = convLayerKernel([x], f, b, { relu: true, dropout: 0.5 }).dataSync(),
      bb = convLayerKernel([x], f, b, { relu: true, dropout: 0.5 }).dataSync();
    assert.ok(
      a.some((v, i) => v !== bb[i]),
      'two calls dropped the same units',
    );
    assert.ok(
      a.every((v) => v === 0 || Math.abs(v - 8) < 1e-6),
      'kept units are scaled by 1 / (1 - rate)',
    );
  });

  /** Runs f on the wasm backend (native kernels) and on cpu, and compares every output to 1e-6. */
  const sameOnCpu = async (what: string, f: () => tf.Tensor[]) => {
    const ours = await Promise.all(tf.tidy(f).map((t) => t.data()));
    await tf.setBackend('cpu');
    try {
      const reference = await Promise.all(tf.tidy(f).map((t) => t.data()));
      ours.forEach((o, i) => {
        assert.equal(o.length, reference[i]!.length, `${what}: output ${i} size`);
        assert.ok(
          relativeError(o, reference[i]!) < 1e-6,
          `${what}: output ${i} relative error ${relativeError(o, reference[i]!)}`,
        );
      });
    } finally {
      await tf.setBackend(info.name);
    }
  };

  test('native max pool and its gradient match the cpu backend, ties too (the first maximum of a window)', async () => {
    // ReLU-like data: many zeros, so windows with ties are common.
    const data = Float32Array.from(rand(2 * 9 * 8 * 3, 7), (v) => Math.max(0, Math.round(v * 4) / 4));
    for (const [size, stride, pad] of [
      [2, 2, 'valid'],
      [3, 2, 'same'],
      [3, 1, 'same'],
    ] as const) {
      await sameOnCpu(`maxPool ${size}x${size} stride ${stride} ${pad}`, () => {
        const x = tf.tensor4d(data, [2, 9, 8, 3]);
        const dy = (t: tf.Tensor) => tf.tensor(rand(t.size, 8), t.shape);
        const g = tf.grad((v: tf.Tensor) =>
          tf.sum(tf.mul(tf.maxPool(v as tf.Tensor4D, size, stride, pad), dy(tf.maxPool(x, size, stride, pad)))),
        )(x);
        return [tf.maxPool(x, size, stride, pad), g];
      });
    }
  });

  // tfjs-backend-cpu 4.22's ResizeBilinearGrad swaps height and width on non-square images, so gradients
  // compare with it on square ones; on the others, the gradient is checked as the resize's adjoint.
  const RESIZES: [number[], [number, number]][] = [
    [
      [2, 8, 8, 5],
      [16, 16],
    ],
    [
      [1, 7, 7, 3],
      [13, 13],
    ],
    [
      [2, 9, 9, 2],
      [4, 4],
    ],
    [
      [1, 7, 5, 3],
      [14, 11],
    ],
    [
      [1, 1, 6, 4],
      [3, 12],
    ],
  ];
  test('native bilinear resize and its gradient match the cpu backend (up, down, odd sizes, corners)', async () => {
    for (const [from, to] of RESIZES) {
      const square = from[1] === from[2];
      for (const alignCorners of [true, false]) {
        await sameOnCpu(`resize ${from.join('x')} to ${to.join('x')}, alignCorners ${alignCorners}`, () => {
          const x = tf.tensor4d(rand(size(from), 12), from as Shape4);
          const forward = (v: tf.Tensor) => tf.image.resizeBilinear(v as tf.Tensor4D, to, alignCorners);
          const y = forward(x);
          const dy = tf.tensor(rand(y.size, 13), y.shape);
          return square ? [y, tf.grad((v: tf.Tensor) => tf.sum(tf.mul(forward(v), dy)))(x)] : [y];
        });
      }
      await sameOnCpu(`resize ${from.join('x')} to ${to.join('x')}, half-pixel centres`, () => [
        tf.image.resizeBilinear(tf.tensor4d(rand(size(from), 14), from as Shape4), to, false, true),
      ]);
    }
  });

  test('native bilinear resize gradient is the adjoint of the resize: <resize(x), dy> = <x, grad(dy)>', () => {
    const modes = [
      [true, false],
      [false, false],
      [false, true],
    ] as const;
    for (const [from, to] of RESIZES)
      for (const [alignCorners, halfPixelCenters] of modes) {
        const [lhs, rhs] = tf.tidy(() => {
          const x = tf.tensor4d(rand(size(from), 15), from as Shape4);
          const forward = (v: tf.Tensor) =>
            tf.image.resizeBilinear(v as tf.Tensor4D, to, alignCorners, halfPixelCenters);
          const dy = tf.tensor(rand(size([from[0]!, ...to, from[3]!]), 16), [from[0]!, ...to, from[3]!]);
          const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(forward(v), dy)))(x);
          assert.deepEqual(g.shape, from);
          return [tf.sum(tf.mul(forward(x), dy)).dataSync()[0]!, tf.sum(tf.mul(x, g)).dataSync()[0]!];
        });
        const what = `${from} -> ${to}, alignCorners ${alignCorners}, halfPixelCenters ${halfPixelCenters}`;
        assert.ok(Math.abs(lhs - rhs) < 1e-4 * Math.max(1, Math.abs(lhs)), `${what}: ${lhs} against ${rhs}`);
      }
  });

  test('native Slice matches the cpu backend for ranks 1 to 4 (-1 sizes included)', async () => {
    await sameOnCpu('slice', () => {
      const x4 = tf.tensor4d(rand(2 * 5 * 6 * 12, 9), [2, 5, 6, 12]);
      return [
        tf.slice(x4, [0, 0, 0, 4], [-1, -1, -1, 8]),
        tf.slice(x4, [1, 2, 1, 0], [1, 3, 4, 5]),
        tf.slice(tf.reshape(x4, [10, 6, 12]), [3, 0, 2], [5, -1, 7]),
        tf.slice(tf.reshape(x4, [720]), [100], [-1]),
      ];
    });
  });

  test('Identity (tfjs clones every tensor a gradient keeps) shares the data; the clone outlives its source', () => {
    const x = tf.tensor4d(rand(4 * 8 * 8 * 2, 11), [4, 8, 8, 2]);
    const before = tf.memory().numDataBuffers;
    const y = tf.clone(x);
    assert.equal(tf.memory().numDataBuffers, before, 'no new buffer for the clone');
    const values = x.dataSync().slice();
    x.dispose();
    assert.deepEqual(y.dataSync(), values);
    y.dispose();
    assert.equal(tf.memory().numDataBuffers, before - 1, 'the buffer is freed with its last tensor');
  });
}
