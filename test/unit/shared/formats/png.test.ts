// Tests of shared/src/formats/png.ts: encodePng.
import assert from 'node:assert/strict';
import test from 'node:test';
import { encodePng } from '@impartial/shared';
import { unzlibSync } from 'fflate';

test('encodePng writes a valid RGB PNG whose pixels decode back', () => {
  const w = 3,
    h = 2,
    rgb = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37) % 256);
  const png = encodePng(w, h, rgb);
  assert.deepEqual([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10]);
  const view = new DataView(png.buffer, png.byteOffset);
  assert.equal(String.fromCharCode(...png.subarray(12, 16)), 'IHDR');
  assert.equal(view.getUint32(16), w);
  assert.equal(view.getUint32(20), h);
  assert.equal(png[24], 8);
  assert.equal(png[25], 2);
  const idatLength = view.getUint32(33);
  assert.equal(String.fromCharCode(...png.subarray(37, 41)), 'IDAT');
  const raw = unzlibSync(png.subarray(41, 41 + idatLength));
  for (let y = 0; y < h; y++) {
    assert.equal(raw[y * (w * 3 + 1)], 0, 'filter type 0');
    assert.deepEqual(
      [...raw.subarray(y * (w * 3 + 1) + 1, (y + 1) * (w * 3 + 1))],
      [...rgb.subarray(y * w * 3, (y + 1) * w * 3)],
    );
  }
  assert.throws(() => encodePng(2, 2, new Uint8Array(5)), /5 bytes for 2x2/);
});
