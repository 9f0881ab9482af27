// Tests of shared/src/image/outline-strokes.ts: outlines turned into strokes (outlinesToStrokes).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

describe('outlines as strokes', () => {
  it('paints what ImPartial derives from outlines: skeleton + inner ring as cell, outline as background', async () => {
    const { outlinesToScribbles, outlinesToStrokes, rasterizeDrawings } = await import('@impartial/shared');
    const polygons: Array<Array<[number, number]>> = [
      [
        [10, 10],
        [40, 12],
        [42, 35],
        [12, 38],
      ],
      [
        [42, 12],
        [70, 10],
        [72, 40],
        [44, 36],
      ],
    ];
    const expected = outlinesToScribbles(polygons, 90, 60);
    const strokes = outlinesToStrokes(polygons, 90, 60);
    assert.ok(strokes.some((s) => s.class === 1) && strokes.some((s) => s.class === 2));
    const painted = rasterizeDrawings(strokes, 90, 60).region(0, 0, 90, 60);
    let missed = 0,
      extra = 0,
      wrong = 0,
      total = 0;
    for (let i = 0; i < expected.data.length; i++) {
      const e = expected.data[i]!,
        p = painted.data[i]!;
      if (e) {
        total++;
        if (!p) missed++;
        else if (p !== e) wrong++;
      } else if (p) extra++;
    }
    assert.equal(missed, 0, 'every scribble pixel is painted');
    assert.ok(wrong <= total * 0.05, `classes agree (${wrong} of ${total} differ)`);
    assert.ok(extra <= total * 0.35, `the 1-px brush adds little (${extra} extra pixels for ${total})`);
  });
});
