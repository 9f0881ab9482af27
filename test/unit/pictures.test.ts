import assert from 'node:assert/strict';
import test from 'node:test';
import { lossCurveSvg } from '@impartial/bridge-server';
import { compositeRgb, drawOutlines, encodePng, heatRgb, sideBySide } from '@impartial/shared';
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

test('the loss curve is an SVG with one point per step', () => {
  const losses = Array.from({ length: 50 }, (_, i) => 1 / (i + 1));
  const svg = lossCurveSvg(losses, 'loss <test>');
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /loss &lt;test>/);
  const paths = [...svg.matchAll(/<path d="([^"]+)"/g)].map((m) => m[1]!);
  assert.equal(paths.length, 2);
  assert.equal(paths[0]!.split(/[ML]/).filter(Boolean).length, 50);
  assert.match(lossCurveSvg([], 'x'), /no training steps/);
});
