// Tests of viewer-plugin/src/state/view.ts: what part of the view a first look predicts.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { FIRST_LOOK_SIDE, firstLookRect, visibleRect } from '@impartial/viewer-plugin/view';

it('a first look predicts all of a small view, and the middle square of a zoomed-out slide', () => {
  const small = { x: 10, y: 20, width: 300, height: 200 };
  assert.deepEqual(firstLookRect(small), small);
  // The 20000² demo slide, all in view.
  const slide = { x: 0, y: 0, width: 20000, height: 20000 };
  const middle = firstLookRect(slide);
  assert.deepEqual(middle, { x: 9488, y: 9488, width: FIRST_LOOK_SIDE, height: FIRST_LOOK_SIDE });
  // A wide strip: only its long side is cut, around its centre.
  assert.deepEqual(firstLookRect({ x: 100, y: 0, width: 5000, height: 600 }), {
    x: 100 + 1988,
    y: 0,
    width: FIRST_LOOK_SIDE,
    height: 600,
  });
});

it('the visible rectangle is clipped to the image, in whole pixels', () => {
  // A 800 x 600 screen at zoom 0 centred on (100, 50) of a 1000 x 1000 image: x from -300, y from -250.
  const viewport = { width: 800, height: 600, unproject: ([x, y]: number[]) => [x! - 300, y! - 250] };
  assert.deepEqual(visibleRect(viewport, { width: 1000, height: 1000 }), { x: 0, y: 0, width: 500, height: 350 });
});
