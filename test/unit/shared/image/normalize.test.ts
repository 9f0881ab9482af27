// Tests of shared/src/image/normalize.ts: percentiles and percentile normalisation (normalizeImage).
import assert from 'node:assert/strict';
import test from 'node:test';
import { type MultiChannelImage, normalizeImage, percentileRange, percentiles } from '@impartial/shared';
import { near } from '../../../helpers/numbers.js';

test('percentiles match numpy (linear interpolation)', () => {
  const oneToHundred = Array.from({ length: 100 }, (_, i) => i + 1);
  // np.percentile(np.arange(1, 101), [0, 1, 25, 50, 98, 99.5, 100]) = [1, 1.99, 25.75, 50.5, 98.02, 99.505, 100]
  const got = percentiles(oneToHundred, [0, 1, 25, 50, 98, 99.5, 100]);
  const want = [1, 1.99, 25.75, 50.5, 98.02, 99.505, 100];
  for (const [i, g] of got.entries()) {
    assert.ok(near(g, want[i]!), `p${[0, 1, 25, 50, 98, 99.5, 100][i]}: got ${g}, want ${want[i]}`);
  }
  // order of the input does not matter
  const shuffled = [...oneToHundred].sort((a, b) => ((a * 37) % 101) - ((b * 37) % 101));
  assert.deepEqual(percentiles(shuffled, [1, 98]), percentiles(oneToHundred, [1, 98]));
  // np.percentile([3, 1, 2], [25, 50]) = [1.5, 2]; np.percentile([10, -4, 7, 0], 75) = 7.75
  assert.deepEqual(percentiles([3, 1, 2], [25, 50]), [1.5, 2]);
  assert.deepEqual(percentiles(Float32Array.from([10, -4, 7, 0]), [75]), [7.75]);
  assert.deepEqual(percentiles([42], [0, 50, 100]), [42, 42, 42]);
  assert.throws(() => percentiles([], [50]), /empty/);
});

test('normalizeImage maps the joint p1 to 0 and p98 to 1, without clipping', () => {
  // two channels holding 1..50 and 51..100: joint percentiles of 1..100
  const data = Float32Array.from({ length: 100 }, (_, i) => i + 1);
  const image: MultiChannelImage = { width: 10, height: 5, channels: 2, data, channelNames: ['a', 'b'] };
  const range = percentileRange(image);
  assert.ok(near(range.low, 1.99) && near(range.high, 98.02), JSON.stringify(range));
  const norm = normalizeImage(image);
  assert.deepEqual([norm.width, norm.height, norm.channels, norm.channelNames], [10, 5, 2, ['a', 'b']]);
  const scale = 98.02 - 1.99;
  assert.ok(near(norm.data[0]!, (1 - 1.99) / scale, 1e-6), `min -> ${norm.data[0]}`); // below 0: no clipping
  assert.ok(norm.data[0]! < 0);
  assert.ok(near(norm.data[99]!, (100 - 1.99) / scale, 1e-6), `max -> ${norm.data[99]}`);
  assert.ok(norm.data[99]! > 1);
  const [p1, p98] = percentiles(norm.data, [1, 98]) as [number, number];
  assert.ok(near(p1, 0, 1e-6) && near(p98, 1, 1e-6), `normalised percentiles ${p1}, ${p98}`);
  assert.equal(image.data[0], 1, 'the input is not modified');
  // an explicit range
  const fixed = normalizeImage(image, { low: 1, high: 101 });
  assert.ok(near(fixed.data[50]!, 0.5));
  // a constant image does not divide by zero
  const flat = normalizeImage({ width: 2, height: 2, channels: 1, data: new Float32Array(4).fill(7) });
  assert.deepEqual(Array.from(flat.data), [0, 0, 0, 0]);
});
