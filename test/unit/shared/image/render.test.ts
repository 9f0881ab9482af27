// Tests of shared/src/image/render.ts: composite, outlines, heat map and panels.
import assert from 'node:assert/strict';
import test from 'node:test';
import { compositeRgb, drawOutlines, heatRgb, sideBySide } from '@impartial/shared';

test('composite, outlines, heat map and panels', () => {
  const image = { width: 4, height: 1, channels: 2, data: Float32Array.from([0, 1, 2, 3, 3, 2, 1, 0]) };
  const rgb = compositeRgb(image);
  assert.equal(rgb.length, 12);
  // Channel 0 rises left to right and channel 1 falls: the right end shows channel 0's colour alone,
  // the left end channel 1's (each channel's colour from a composite where only it varies).
  const flat = Float32Array.from([0, 0, 0, 0]);
  const only0 = compositeRgb({ ...image, data: Float32Array.from([...image.data.subarray(0, 4), ...flat]) });
  const only1 = compositeRgb({ ...image, data: Float32Array.from([...flat, ...image.data.subarray(4)]) });
  assert.notDeepEqual([...only0.subarray(9, 12)], [...only1.subarray(0, 3)], 'the two channels have two colours');
  assert.deepEqual([...rgb.subarray(9, 12)], [...only0.subarray(9, 12)], "right: channel 0's colour");
  assert.deepEqual([...rgb.subarray(0, 3)], [...only1.subarray(0, 3)], "left: channel 1's colour");
  drawOutlines(rgb, { width: 4, height: 1, data: Int32Array.from([0, 1, 1, 0]) }, [255, 0, 255]);
  assert.deepEqual([...rgb.subarray(3, 6)], [255, 0, 255]);
  const heat = heatRgb({ width: 2, height: 1, data: Float32Array.from([0, 1]) }, 1);
  assert.deepEqual([...heat], [0, 0, 0, 255, 255, 255]);
  const both = sideBySide(1, [
    { width: 2, rgb: heat },
    { width: 1, rgb: Uint8Array.from([1, 2, 3]) },
  ]);
  assert.equal(both.width, 3);
  assert.deepEqual([...both.rgb.subarray(6)], [1, 2, 3]);
});
