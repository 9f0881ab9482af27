import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import {
  DEFAULT_UNET,
  dropout,
  forward,
  forwardMacs,
  type ImpartialModel,
  initWeights,
  loadModelFromUrl,
  type MultiChannelImage,
  newId,
  outputChannels,
  parameterCount,
  predict,
  tileOrigins,
  type UNetConfig,
} from '@impartial/shared';
import { initBackend, loadModelDir, saveModelDir } from '@impartial/shared/node';
import * as tf from '@tensorflow/tfjs-core';

await initBackend();

const config: UNetConfig = { ...DEFAULT_UNET, inChannels: 3, depth: 2, base: 4 };
const model = (): ImpartialModel => ({
  config,
  weights: initWeights(config, 7),
  lineage: {
    id: newId('m'),
    parent: null,
    created: new Date().toISOString(),
    author: 'test',
    channels: ['a', 'b', 'c'],
    steps: 0,
    trainSeconds: 0,
  },
});

function image(width: number, height: number, channels = 3): MultiChannelImage {
  const data = new Float32Array(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37) * 0.5 + 0.5;
  return { width, height, channels, data };
}

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

test('model save/load round trip is exact (files) and keeps config and lineage', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'impartial-model-'));
  try {
    const m = model();
    m.lineage.instances = { separation: 'seeded', threshold: 0.4, seedThreshold: 0.65, seedMinSize: 18 };
    await saveModelDir(m, dir);
    const back = await loadModelDir(dir);
    assert.deepEqual(back.config, m.config);
    assert.deepEqual(back.lineage, m.lineage);
    for (const [name, v] of m.weights) assert.deepEqual(await back.weights.get(name)!.data(), await v.data(), name);
    const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8'));
    assert.equal(json.format, 'impartial-unet');
    assert.equal(json.weightsManifest[0].paths[0], 'weights.bin');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a saved model loads over HTTP with fetch, as a browser would', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'impartial-model-'));
  const server = createServer(async (req, res) => {
    try {
      res.end(await readFile(path.join(dir, path.basename(req.url ?? ''))));
    } catch {
      res.statusCode = 404;
      res.end();
    }
  });
  try {
    const m = model();
    await saveModelDir(m, dir);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    const back = await loadModelFromUrl(`http://127.0.0.1:${port}/model.json`);
    const x = tf.tensor4d(image(8, 8).data, [1, 8, 8, 3]);
    const a = await forward(m.config, m.weights, x, { dropout: false }).data();
    const b = await forward(back.config, back.weights, x, { dropout: false }).data();
    assert.deepEqual(a, b);
    await assert.rejects(loadModelFromUrl(`http://127.0.0.1:${port}/missing.json`), /HTTP 404/);
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('loading a damaged model names what is wrong', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'impartial-model-'));
  try {
    await saveModelDir(model(), dir);
    const weights = await readFile(path.join(dir, 'weights.bin'));
    await writeFile(path.join(dir, 'weights.bin'), weights.subarray(0, 100));
    await assert.rejects(loadModelDir(dir), /weights\.bin has 100 bytes/);
    await writeFile(path.join(dir, 'model.json'), JSON.stringify({ format: 'something-else' }));
    await assert.rejects(loadModelDir(dir), /not an ImPartial model\.json: format/);
    await assert.rejects(loadModelDir(path.join(dir, 'nope')), /no such file/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('tile origins cover the axis and end flush', () => {
  assert.deepEqual(tileOrigins(100, 128, 16), [0]);
  assert.deepEqual(tileOrigins(300, 128, 32), [0, 96, 172]);
  for (const [len, tile, ov] of [
    [1000, 256, 32],
    [513, 512, 64],
    [2048, 512, 32],
  ] as const) {
    const o = tileOrigins(len, tile, ov);
    assert.equal(o[0], 0);
    assert.equal(o[o.length - 1]! + tile, len);
    for (let i = 1; i < o.length; i++)
      assert.ok(o[i]! - o[i - 1]! <= tile - ov, 'neighbours overlap by at least the overlap');
  }
});

test('tiled inference agrees with one big tile, and entropy is binary entropy in [0, ln 2]', async () => {
  const m = model();
  const img = image(100, 76);
  const whole = await predict(m.config, m.weights, img, { tile: 128, passes: 1 });
  const tiled = await predict(m.config, m.weights, img, { tile: 32, overlap: 12, passes: 1 });
  let maxDiff = 0,
    meanDiff = 0;
  for (let i = 0; i < whole.probability.data.length; i++) {
    const d = Math.abs(whole.probability.data[i]! - tiled.probability.data[i]!);
    maxDiff = Math.max(maxDiff, d);
    meanDiff += d / whole.probability.data.length;
  }
  // An untrained net's probabilities all sit near 0.5 (here within about 0.012 of each other), so
  // the tolerances are shares of that spread, not absolute: a tile border sees zero padding where
  // the whole image sees its neighbours, and the 12 px overlap blends most of that away. With no
  // overlap the largest difference is about 2/3 of the spread and the mean about 1/20.
  const spread = Math.max(...whole.probability.data) - Math.min(...whole.probability.data);
  assert.ok(spread > 0, 'the probabilities vary over the image');
  assert.ok(meanDiff < spread / 30, `mean difference ${meanDiff}, spread ${spread}`);
  assert.ok(maxDiff < spread / 3, `largest difference ${maxDiff}, spread ${spread}`);
  for (let i = 0; i < tiled.entropy.data.length; i++) {
    const p = tiled.probability.data[i]!,
      h = tiled.entropy.data[i]!;
    assert.ok(p >= 0 && p <= 1);
    assert.ok(h >= 0 && h <= Math.LN2 + 1e-6);
    assert.ok(Math.abs(h - (-p * Math.log(Math.max(p, 1e-5)) - (1 - p) * Math.log(Math.max(1 - p, 1e-5)))) < 1e-5);
  }
  await assert.rejects(predict(m.config, m.weights, image(16, 16, 2)), /reads 3 channels but the image has 2/);
});

test('inference can be cancelled', async () => {
  const m = model();
  const ctrl = new AbortController();
  ctrl.abort();
  await assert.rejects(predict(m.config, m.weights, image(64, 64), { tile: 32, signal: ctrl.signal }), /cancelled/);
});
