// Tests of viewer-plugin/src/tools/outline-shape.ts: the outline tool's lasso and polygon gestures.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CLICK_PIXELS,
  CLOSE_PIXELS,
  closedOutline,
  type ImagePoint,
  OutlineShape,
  polygonArea,
} from '@impartial/viewer-plugin/tools/outline-shape';

/** A press at `p` released without moving: a click. */
const click = (s: OutlineShape, p: ImagePoint, scale = 1) => {
  s.down(p);
  return s.up(p, scale);
};

describe('outline tool', () => {
  it('a press dragged around a cell is a lasso, closed and sent on release', () => {
    const s = new OutlineShape();
    s.down([10, 10]);
    for (const p of [
      [20, 10],
      [20, 20],
      [10, 20],
    ] as ImagePoint[])
      s.move(p);
    assert.deepEqual(s.shown?.at(-1), [10, 10], 'shown closed back to its start while drawn');
    const done = s.up([10, 11], 1);
    assert.deepEqual(done, [
      [10, 10],
      [20, 10],
      [20, 20],
      [10, 20],
      [10, 11],
    ]);
    assert.equal(s.shown, null, 'nothing left to show');
  });

  it('clicks place polygon corners; a click on the first corner closes it', () => {
    const s = new OutlineShape();
    assert.equal(click(s, [0, 0]), null);
    assert.ok(s.placing);
    assert.equal(click(s, [30, 0]), null);
    s.move([40, 40]);
    assert.deepEqual(s.shown, [
      [0, 0],
      [30, 0],
      [40, 40],
      [0, 0],
    ]);
    assert.equal(click(s, [30, 30]), null);
    assert.equal(click(s, [CLOSE_PIXELS + 1, 0]), null, 'outside the closing distance: another corner');
    const done = click(s, [CLOSE_PIXELS - 1, 0]);
    assert.deepEqual(done, [
      [0, 0],
      [30, 0],
      [30, 30],
      [CLOSE_PIXELS + 1, 0],
    ]);
    assert.ok(!s.placing);
  });

  it('the tolerances are screen pixels: zoomed in 4x, a 2-pixel press is a lasso', () => {
    const s = new OutlineShape();
    s.down([0, 0]);
    s.move([CLICK_PIXELS / 4 + 0.5, 0]);
    assert.equal(s.up([CLICK_PIXELS / 4 + 0.5, 0], 1), null, 'a click at 1 screen px per image px');
    assert.ok(s.placing);
    s.cancel();
    s.down([0, 0]);
    for (const p of [
      [2, 0],
      [2, 2],
      [0, 2],
    ] as ImagePoint[])
      s.move(p);
    assert.equal(s.up([0, 2], 4)?.length, 4, 'a lasso at 4 screen px per image px');
  });

  it('a double click (two clicks on one spot, then close) gives each corner once', () => {
    const s = new OutlineShape();
    for (const p of [
      [0, 0],
      [10, 0],
      [10, 10],
      [10, 10],
    ] as ImagePoint[])
      click(s, p);
    assert.deepEqual(s.close(), [
      [0, 0],
      [10, 0],
      [10, 10],
    ]);
  });

  it('Backspace takes corners back; Escape drops the polygon', () => {
    const s = new OutlineShape();
    click(s, [0, 0]);
    click(s, [10, 0]);
    s.removeLast();
    s.removeLast();
    assert.ok(!s.placing, 'the last corner taken back ends it');
    click(s, [0, 0]);
    click(s, [10, 0]);
    s.cancel();
    assert.equal(s.close(), null);
    assert.equal(s.shown, null);
  });

  it('an outline needs 3 corners and a pixel of area', () => {
    assert.equal(
      closedOutline([
        [0, 0],
        [5, 0],
        [0, 0.2],
      ]),
      null,
      'thinner than a pixel',
    );
    assert.equal(
      closedOutline([
        [0, 0],
        [5, 5],
        [0, 0],
      ]),
      null,
      'two distinct corners',
    );
    assert.equal(
      polygonArea([
        [0, 0],
        [4, 0],
        [4, 3],
      ]),
      6,
    );
  });
});
