// Tests of viewer-plugin/src/layers/overlay-pixels.ts: the prediction overlay's pixels.
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

// Matplotlib's inferno (matplotlib/_cm_listed.py, _inferno_data; 3.6) at every 32nd of its 256
// entries, RGB from 0 to 1: the colormap that the overlay's look-up table follows with nine stops.
const MATPLOTLIB_INFERNO: ReadonlyArray<readonly [number, readonly [number, number, number]]> = [
  [0, [0.001462, 0.000466, 0.013866]],
  [32, [0.129285, 0.047293, 0.290788]],
  [64, [0.3415, 0.062325, 0.429425]],
  [96, [0.54092, 0.134729, 0.415123]],
  [128, [0.735683, 0.215906, 0.330245]],
  [160, [0.894305, 0.353399, 0.193584]],
  [192, [0.978422, 0.557937, 0.034931]],
  [224, [0.974638, 0.797692, 0.206332]],
  [255, [0.988362, 0.998364, 0.644924]],
];
/** Matplotlib's inferno at entry `index` as 0-255 RGB. */
function inferno(index: number): [number, number, number] {
  const [r, g, b] = MATPLOTLIB_INFERNO.find(([i]) => i === index)![1];
  return [Math.round(255 * r), Math.round(255 * g), Math.round(255 * b)];
}
const near = (got: readonly number[], want: readonly number[], tolerance: number) =>
  got.every((v, c) => Math.abs(v - want[c]!) <= tolerance);

describe('prediction overlay pixels', () => {
  it("follows matplotlib's inferno: the look-up table within 5 of 255 at every 32nd entry", () => {
    for (const [i] of MATPLOTLIB_INFERNO) {
      const lut = Array.from(INFERNO.slice(3 * i, 3 * i + 3));
      assert.ok(near(lut, inferno(i), 5), `entry ${i}: ${lut} vs matplotlib's ${inferno(i)}`);
    }
  });

  it('maps entropy from the low threshold to ln 2 onto inferno, transparent below', () => {
    const low = style.entropyLow,
      span = Math.LN2 - low;
    // 128/255 of the way from the threshold to ln 2: entry 128 of the colormap.
    const entropy = new Float32Array([0, 0.05, low, Math.LN2, low + (span * 128) / 255]);
    const rgba = overlayPixels(null, entropy, 5, 1, style);
    const alpha = Math.round(255 * style.entropyOpacity);
    assert.deepEqual(px(rgba, 0), [0, 0, 0, 0]);
    assert.deepEqual(px(rgba, 1), [0, 0, 0, 0], 'below the threshold: transparent');
    assert.deepEqual(px(rgba, 2), [...inferno(0), alpha], 'at the threshold: the dark end, at the entropy opacity');
    assert.deepEqual(px(rgba, 3), [...inferno(255), alpha], 'ln 2: the bright end');
    const middle = px(rgba, 4);
    assert.ok(near(middle.slice(0, 3), inferno(128), 2), `halfway: the middle of inferno (${middle})`);
    assert.equal(middle[3], alpha);
  });

  it('draws cell borders opaque and fills translucent, over the entropy', () => {
    // 3x3 cell 7 inside a 5x5 tile: the centre is fill, the ring around it border.
    const labels = new Uint32Array(25);
    for (let y = 1; y <= 3; y++) for (let x = 1; x <= 3; x++) labels[y * 5 + x] = 7;
    // With an outline, the fill lets the image through: alpha 110 of 255 at full cell opacity (as
    // the labels layer drew it before the overlay became one texture), in proportion below that.
    const fillUnderOutline = 110 / 255;
    const [r, g, b] = cellColor(7);
    const rgba = overlayPixels(labels, null, 5, 5, style);
    assert.deepEqual(px(rgba, 6), [r, g, b, 255], 'border pixel');
    const centre = px(rgba, 12);
    assert.deepEqual(centre.slice(0, 3), [r, g, b]);
    assert.equal(centre[3], Math.round(255 * fillUnderOutline), 'fill alpha');
    const half = overlayPixels(labels, null, 5, 5, { ...style, cellOpacity: 0.5 });
    assert.equal(px(half, 6)[3], Math.round(255 * 0.5), 'border at half the cell opacity');
    assert.equal(px(half, 12)[3], Math.round(255 * fillUnderOutline * 0.5), 'fill at half its alpha');
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
    const [er, eg, eb] = inferno(255);
    const want = [r * 0.5 + er * under, g * 0.5 + eg * under, b * 0.5 + eb * under].map((v) => Math.round(v / out));
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
