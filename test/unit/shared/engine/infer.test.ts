// Tests of shared/src/engine/infer.ts: tiling and tiled inference (tileOrigins, predict).
import assert from 'node:assert/strict';
import test from 'node:test';
import { type MultiChannelImage, predict, tileOrigins } from '@impartial/shared';
import { initBackend } from '@impartial/shared/node';
import { image, model } from '../../../helpers/tiny-unet.js';

await initBackend();

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

/** The image mirrored about x and/or y (planar channels). */
function mirrorImage(img: MultiChannelImage, flipX: boolean, flipY: boolean): MultiChannelImage {
  const { width, height, channels } = img,
    n = width * height,
    data = new Float32Array(img.data.length);
  for (let c = 0; c < channels; c++)
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const sx = flipX ? width - 1 - x : x,
          sy = flipY ? height - 1 - y : y;
        data[c * n + y * width + x] = img.data[c * n + sy * width + sx]!;
      }
  return { ...img, data };
}

test('with flips, pass t reads the tile mirrored (none, x, y, both) and the mean is taken mirrored back', async () => {
  // Without MC dropout every pass is deterministic, so the mean can be rebuilt from single passes.
  const m = model();
  const still = m.config;
  const img = image(32, 24);
  const mirrors = [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const;
  const expected = new Float32Array(32 * 24);
  for (const [fx, fy] of mirrors) {
    const p = (await predict(still, m.weights, mirrorImage(img, fx, fy), { tile: 32, passes: 1 })).probability;
    const back = mirrorImage({ width: 32, height: 24, channels: 1, data: p.data }, fx, fy).data;
    for (let i = 0; i < expected.length; i++) expected[i]! += back[i]! / 4;
  }
  const flipped = await predict(still, m.weights, img, { tile: 32, passes: 4 });
  const plain = await predict(still, m.weights, img, { tile: 32, passes: 4, flips: false });
  const single = await predict(still, m.weights, img, { tile: 32, passes: 1 });
  let flipErr = 0,
    plainErr = 0,
    differs = 0;
  for (let i = 0; i < expected.length; i++) {
    flipErr = Math.max(flipErr, Math.abs(flipped.probability.data[i]! - expected[i]!));
    plainErr = Math.max(plainErr, Math.abs(plain.probability.data[i]! - single.probability.data[i]!));
    differs = Math.max(differs, Math.abs(flipped.probability.data[i]! - single.probability.data[i]!));
  }
  assert.ok(flipErr < 1e-5, `flipped passes match the mirrored single passes (${flipErr})`);
  assert.ok(plainErr < 1e-5, `without flips, deterministic passes all equal one pass (${plainErr})`);
  assert.ok(differs > 1e-4, `an untrained net is not mirror-symmetric, so flipping changes the mean (${differs})`);
});

test('passes are deterministic unless MC dropout is asked for; only then do passes past four count', async () => {
  const m = model();
  assert.ok(m.config.dropout > 0, 'the net has dropout to sample');
  const img = image(32, 32);
  const run = async (passes: number, dropout?: boolean) =>
    (await predict(m.config, m.weights, img, { tile: 32, passes, ...(dropout === undefined ? {} : { dropout }) }))
      .probability.data;
  const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((d, v, i) => Math.max(d, Math.abs(v - b[i]!)), 0);
  const [three, threeAgain] = [await run(3), await run(3)];
  assert.equal(maxDiff(three, threeAgain), 0, 'the same passes give the same map');
  assert.ok(maxDiff(await run(4), await run(9)) < 1e-6, 'without dropout, passes beyond the four mirrorings repeat');
  const [mc, mcAgain] = [await run(3, true), await run(3, true)];
  assert.ok(maxDiff(mc, mcAgain) > 1e-5, 'MC dropout samples new masks in each run');
  assert.ok(maxDiff(mc, three) > 1e-5, 'MC dropout differs from the deterministic mean');
  assert.ok(maxDiff(await run(3, false), three) === 0, 'dropout: false is the default');
});
