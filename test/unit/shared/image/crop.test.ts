// Tests of shared/src/image/crop.ts: the box around labelled pixels and images cut to a box.
import assert from 'node:assert/strict';
import test from 'node:test';
import { cropImage, labelledBox } from '@impartial/shared';

test('labelledBox: the box around every labelled pixel, widened within the image, null when none', () => {
  const data = new Int32Array(10 * 8);
  data[2 * 10 + 3] = 1;
  data[5 * 10 + 6] = 4;
  const labels = { width: 10, height: 8, data };
  assert.deepEqual(labelledBox(labels), [3, 2, 7, 6]);
  assert.deepEqual(labelledBox(labels, 2), [1, 0, 9, 8]);
  assert.deepEqual(labelledBox(labels, 5), [0, 0, 10, 8], 'clipped to the image');
  assert.equal(labelledBox({ width: 10, height: 8, data: new Int32Array(80) }), null);
});

test('cropImage cuts one plane, or every channel plane of a multi-channel image, to the box', () => {
  const labels = { width: 4, height: 3, data: Int32Array.from({ length: 12 }, (_, i) => i) };
  assert.deepEqual(Array.from(cropImage(labels, [1, 1, 3, 3]).data), [5, 6, 9, 10]);
  const image = { width: 4, height: 3, channels: 2, data: Float32Array.from({ length: 24 }, (_, i) => i) };
  const cut = cropImage(image, [2, 0, 4, 2]);
  assert.deepEqual([cut.width, cut.height, cut.channels], [2, 2, 2]);
  assert.ok(cut.data instanceof Float32Array);
  assert.deepEqual(Array.from(cut.data), [2, 3, 6, 7, 14, 15, 18, 19], 'channel 0, then channel 1');
});
