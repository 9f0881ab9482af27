import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cellColor, INFERNO, type OverlayStyle, overlayPixels } from '@impartial/viewer-plugin/layers/overlay-pixels';

const style: OverlayStyle = {
  cells: true,
  cellOpacity: 1,
  cellStyle: 'both',
  entropy: true,
  entropyOpacity: 0.5,
  entropyLow: 0.1,
};
const px = (rgba: Uint8ClampedArray, i: number) => Array.from(rgba.slice(4 * i, 4 * i + 4));

describe('prediction overlay pixels', () => {
  it('maps entropy from the low threshold to ln 2 onto inferno, transparent below', () => {
    const rgba = overlayPixels(null, new Float32Array([0, 0.05, 0.1, Math.LN2]), 4, 1, style);
    assert.deepEqual(px(rgba, 0), [0, 0, 0, 0]);
    assert.deepEqual(px(rgba, 1), [0, 0, 0, 0], 'below the threshold: transparent');
    assert.deepEqual(px(rgba, 2), [0, 0, 4, 128], 'at the threshold: the dark end, at the entropy opacity');
    assert.deepEqual(px(rgba, 3), [252, 255, 164, 128], 'ln 2: the bright end');
    assert.deepEqual(
      Array.from(INFERNO.slice(3 * 128, 3 * 128 + 3)),
      [187, 55, 84],
      'x = 128/255 lies 0.015 of the way from the 0.5 stop (186, 54, 85) to the 0.63 one (227, 89, 51)',
    );
  });

  it('draws cell borders opaque and fills translucent, over the entropy', () => {
    // 3x3 cell 7 inside a 5x5 tile: the centre is fill, the ring around it border.
    const labels = new Uint32Array(25);
    for (let y = 1; y <= 3; y++) for (let x = 1; x <= 3; x++) labels[y * 5 + x] = 7;
    const [r, g, b] = cellColor(7);
    const rgba = overlayPixels(labels, null, 5, 5, style);
    assert.deepEqual(px(rgba, 6), [r, g, b, 255], 'border pixel');
    const centre = px(rgba, 12);
    assert.deepEqual(centre.slice(0, 3), [r, g, b]);
    assert.equal(centre[3], Math.round(255 * 0.43), 'fill alpha');
    assert.deepEqual(px(rgba, 0), [0, 0, 0, 0], 'background');
    const fillOnly = overlayPixels(labels, null, 5, 5, { ...style, cellStyle: 'fill' });
    assert.equal(px(fillOnly, 6)[3], 255);
    assert.equal(px(fillOnly, 12)[3], 255);
    const outline = overlayPixels(labels, null, 5, 5, { ...style, cellStyle: 'outline' });
    assert.equal(px(outline, 12)[3], 0, 'outline only: no fill');
  });

  it('composites a translucent cell over entropy with the "over" operator', () => {
    const labels = new Uint32Array([3]),
      entropy = new Float32Array([Math.LN2]);
    const s: OverlayStyle = { ...style, cellStyle: 'fill', cellOpacity: 0.5 };
    const [r, g, b] = cellColor(3);
    const out = 0.5 + 0.5 * 0.5,
      under = 0.5 * 0.5;
    const want = [r * 0.5 + 252 * under, g * 0.5 + 255 * under, b * 0.5 + 164 * under].map((v) => Math.round(v / out));
    const got = px(overlayPixels(labels, entropy, 1, 1, s), 0);
    got.slice(0, 3).forEach((v, i) => {
      assert.ok(Math.abs(v - want[i]!) <= 1, `channel ${i}: ${v} vs ${want[i]}`);
    });
    assert.equal(got[3], Math.round(255 * out));
    assert.deepEqual(
      px(overlayPixels(labels, entropy, 1, 1, { ...s, cells: false, entropy: false }), 0),
      [0, 0, 0, 0],
      'both hidden',
    );
  });
});
