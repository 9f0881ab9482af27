// Tests of shared/src/engine/unet.ts: the U-Net's size, forward pass and dropout.
import assert from 'node:assert/strict';
import test from 'node:test';
import {
  DEFAULT_UNET,
  dropout,
  forward,
  forwardMacs,
  initWeights,
  outputChannels,
  parameterCount,
} from '@impartial/shared';
import { initBackend } from '@impartial/shared/node';
import * as tf from '@tensorflow/tfjs-core';
import { config, image } from '../../../helpers/tiny-unet.js';

await initBackend();

test('the U-Net has K + K*C outputs and the documented size', () => {
  assert.equal(outputChannels(config), 4 + 4 * 3);
  const w = initWeights({ ...DEFAULT_UNET, inChannels: 2 }, 0);
  // depth 3 / base 16 bilinear U-Net (bottleneck halved), 2 inputs, 12 outputs: 268,284 parameters
  assert.equal(parameterCount(w), 268284);
  // same count of multiply-accumulates per 128x128 patch as the PyTorch reference's hook counts
  assert.equal(forwardMacs({ ...DEFAULT_UNET, inChannels: 2 }, 128, 128), 479723520);
  const y = forward(config, initWeights(config, 1), tf.zeros([2, 16, 16, 3]) as tf.Tensor4D, { dropout: false });
  assert.deepEqual(y.shape, [2, 16, 16, 16]);
});

test('dropout only acts when asked (MC passes differ, deterministic passes agree)', async () => {
  const w = initWeights(config, 3);
  const x = tf.tensor4d(image(16, 16).data, [1, 16, 16, 3]);
  const a = await forward(config, w, x, { dropout: false }).data(),
    b = await forward(config, w, x, { dropout: false }).data();
  assert.deepEqual(a, b);
  const c = await forward(config, w, x, { dropout: true }).data();
  assert.notDeepEqual(a, c);
});

test('dropout zeroes the given share and keeps the mean', async () => {
  for (const rate of [0.5, 0.2]) {
    const y = await dropout(tf.ones([2, 64, 64, 8]) as tf.Tensor4D, rate).data();
    let zeros = 0,
      sum = 0;
    for (const v of y) {
      if (v === 0) zeros++;
      else assert.ok(Math.abs(v - 1 / (1 - rate)) < 1e-6);
      sum += v;
    }
    assert.ok(Math.abs(zeros / y.length - rate) < 0.01, `zero share ${zeros / y.length} for rate ${rate}`);
    assert.ok(Math.abs(sum / y.length - 1) < 0.02);
  }
});
