// Tests of shared/src/image/morphology.ts: erosion, outlines, skeletons, distance transform, components.
import assert from 'node:assert/strict';
import test from 'node:test';
import {
  connectedComponents,
  dilateIntoBackground,
  distanceTransform,
  erode,
  erodeSquare,
  innerOutline,
  labelAreas,
  labelledBox,
  Random,
  removeSmallObjects,
  skeletonize,
} from '@impartial/shared';
import { grid, maskGrid, normalizeGrid, show } from '../../../helpers/grid.js';

test('erode: cross and square differ around a hole; the image border counts as 0', () => {
  const m = maskGrid(`
    1111111
    1111111
    1111111
    111.111
    1111111
    1111111
    1111111`);
  const cross = erode(m.data, m.width, m.height, 'cross');
  assert.equal(
    show(cross, m.width),
    normalizeGrid(`
    .......
    .11111.
    .11.11.
    .1...1.
    .11.11.
    .11111.
    .......`),
  );
  const square = erode(m.data, m.width, m.height, 'square');
  assert.equal(
    show(square, m.width),
    normalizeGrid(`
    .......
    .11111.
    .1...1.
    .1...1.
    .1...1.
    .11111.
    .......`),
  );
  // default shape is the cross
  assert.deepEqual(erode(m.data, m.width, m.height), cross);
});

test('erode: a block in the image corner loses its border-side pixels too', () => {
  const m = maskGrid(`
    111..
    111..
    111..
    .....`);
  // border_value = 0: only (1,1) has all 4 (and 8) neighbours inside
  const expected = normalizeGrid(`
    .....
    .1...
    .....
    .....`);
  assert.equal(show(erode(m.data, m.width, m.height, 'cross'), m.width), expected);
  assert.equal(show(erode(m.data, m.width, m.height, 'square'), m.width), expected);
});

test('erode: cross keeps a plus-shaped centre that the square removes', () => {
  const m = maskGrid(`
    .....
    ..1..
    .111.
    ..1..
    .....`);
  assert.equal(
    show(erode(m.data, 5, 5, 'cross'), 5),
    normalizeGrid(`
    .....
    .....
    ..1..
    .....
    .....`),
  );
  assert.equal(
    show(erode(m.data, 5, 5, 'square'), 5),
    normalizeGrid(`
    .....
    .....
    .....
    .....
    .....`),
  );
});

test('erodeSquare(radius 2) = two 3x3 square erosions (7x7 block -> 3x3 block)', () => {
  const m = maskGrid(`
    .........
    .1111111.
    .1111111.
    .1111111.
    .1111111.
    .1111111.
    .1111111.
    .1111111.
    .........`);
  assert.equal(
    show(erodeSquare(m.data, 9, 9, 2), 9),
    normalizeGrid(`
    .........
    .........
    .........
    ...111...
    ...111...
    ...111...
    .........
    .........
    .........`),
  );
  assert.deepEqual(erodeSquare(m.data, 9, 9, 0), m.data);
});

test('innerOutline: the 1 px ring of a rectangle, image border pixels included', () => {
  const m = maskGrid(`
    .......
    .11111.
    .11111.
    .11111.
    .11111.
    .......`);
  assert.equal(
    show(innerOutline(m.data, m.width, m.height), m.width),
    normalizeGrid(`
    .......
    .11111.
    .1...1.
    .1...1.
    .11111.
    .......`),
  );
  const full = maskGrid(`
    1111
    1111
    1111`);
  assert.equal(
    show(innerOutline(full.data, 4, 3), 4),
    normalizeGrid(`
    1111
    1..1
    1111`),
  );
  // an L shape: only (2,4) has all four neighbours inside
  const l = maskGrid(`
    .....
    .1...
    .1...
    .111.
    .111.
    .111.
    .....`);
  assert.equal(
    show(innerOutline(l.data, 5, 7), 5),
    normalizeGrid(`
    .....
    .1...
    .1...
    .111.
    .1.1.
    .111.
    .....`),
  );
});

function skeletonChecks(mask: Uint8Array, width: number, height: number, name: string): Uint8Array {
  const skel = skeletonize(mask, width, height);
  let count = 0;
  for (let i = 0; i < skel.length; i++) {
    assert.ok(skel[i] === 0 || skel[i] === 1, `${name}: skeleton values are 0/1`);
    if (skel[i]) {
      count++;
      assert.equal(mask[i], 1, `${name}: skeleton pixel ${i} lies outside the mask`);
    }
  }
  assert.ok(count > 0, `${name}: skeleton is empty`);
  // thin: no 2x2 block of ones
  for (let y = 0; y + 1 < height; y++) {
    for (let x = 0; x + 1 < width; x++) {
      const i = y * width + x;
      assert.ok(
        !(skel[i] && skel[i + 1] && skel[i + width] && skel[i + width + 1]),
        `${name}: 2x2 block at (${x},${y})\n${show(skel, width)}`,
      );
    }
  }
  // one 8-connected piece
  const seen = new Uint8Array(skel.length);
  const start = skel.indexOf(1);
  const stack = [start];
  seen[start] = 1;
  let reached = 0;
  while (stack.length) {
    const i = stack.pop()!;
    reached++;
    const x = i % width,
      y = (i - x) / width;
    for (let dy = -1; dy <= 1; dy++)
      for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx,
          yy = y + dy;
        if (xx < 0 || yy < 0 || xx >= width || yy >= height) continue;
        const j = yy * width + xx;
        if (skel[j] && !seen[j]) {
          seen[j] = 1;
          stack.push(j);
        }
      }
  }
  assert.equal(reached, count, `${name}: skeleton is not 8-connected\n${show(skel, width)}`);
  return skel;
}

function rectMask(width: number, height: number, x0: number, y0: number, x1: number, y1: number): Uint8Array {
  const m = new Uint8Array(width * height);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m[y * width + x] = 1;
  return m;
}

test('skeletonize: a filled rectangle (odd height) becomes a thin, connected line inside it', () => {
  const W = 26,
    H = 13;
  const mask = rectMask(W, H, 3, 2, 23, 11); // 20 x 9
  const skel = skeletonChecks(mask, W, H, '20x9 rectangle');
  // it runs along the long axis: spans at least width - height columns, and few rows
  const box = labelledBox({ width: W, height: H, data: Int32Array.from(skel) });
  assert.ok(box, 'a skeleton at all');
  const [minX, , x1] = box,
    maxX = x1 - 1;
  assert.ok(maxX - minX + 1 >= 20 - 9, `skeleton spans only columns ${minX}..${maxX}`);
  // the medial row of the rectangle (y = 6) carries the long run
  let onMiddle = 0;
  for (let x = 0; x < W; x++) onMiddle += skel[6 * W + x]!;
  assert.ok(onMiddle >= 20 - 9, `medial row holds ${onMiddle} skeleton pixels\n${show(skel, W)}`);
});

test('skeletonize: a filled rectangle with even height is thin and connected too', () => {
  const W = 24,
    H = 14;
  skeletonChecks(rectMask(W, H, 2, 2, 22, 12), W, H, '20x10 rectangle');
  skeletonChecks(rectMask(12, 12, 2, 2, 10, 10), 12, 12, '8x8 square');
  skeletonChecks(rectMask(9, 20, 1, 1, 8, 19), 9, 20, '7x18 upright rectangle');
});

test('skeletonize: a 1 px line is already a skeleton and stays unchanged; an L shape stays connected', () => {
  const line = maskGrid(`
    .......
    .11111.
    .......`);
  assert.deepEqual(skeletonize(line.data, 7, 3), line.data);
  const l = maskGrid(`
    ..........
    .111......
    .111......
    .111......
    .111......
    .11111111.
    .11111111.
    .11111111.
    ..........`);
  skeletonChecks(l.data, l.width, l.height, 'L shape');
  assert.deepEqual(skeletonize(new Uint8Array(12), 4, 3), new Uint8Array(12));
});

function bruteDistance(isZero: Uint8Array, width: number, height: number): Float64Array {
  const out = new Float64Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      let best = Infinity;
      for (let yy = 0; yy < height; yy++)
        for (let xx = 0; xx < width; xx++) {
          if (isZero[yy * width + xx]) best = Math.min(best, (x - xx) ** 2 + (y - yy) ** 2);
        }
      out[y * width + x] = Math.sqrt(best);
    }
  return out;
}

test('distanceTransform equals the brute-force Euclidean distance on random masks', () => {
  const cases: Array<[number, number, number, number]> = [
    [13, 11, 1, 0.2],
    [7, 19, 2, 0.08],
    [16, 16, 3, 0.03],
    [1, 9, 4, 0.3],
    [9, 1, 5, 0.3],
    [20, 6, 6, 0.5],
  ];
  for (const [width, height, seed, share] of cases) {
    const rng = new Random(seed);
    const isZero = new Uint8Array(width * height);
    for (let i = 0; i < isZero.length; i++) isZero[i] = rng.next() < share ? 1 : 0;
    isZero[rng.int(0, isZero.length)] = 1; // at least one zero
    const got = distanceTransform(isZero, width, height);
    const want = bruteDistance(isZero, width, height);
    for (let i = 0; i < got.length; i++) {
      assert.ok(
        Math.abs(got[i]! - want[i]!) < 1e-5,
        `${width}x${height} seed ${seed}: pixel ${i} got ${got[i]}, want ${want[i]}`,
      );
    }
  }
});

test('distanceTransform: single zero in a corner gives sqrt(x^2 + y^2)', () => {
  const W = 6,
    H = 4;
  const isZero = new Uint8Array(W * H);
  isZero[0] = 1;
  const d = distanceTransform(isZero, W, H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) assert.ok(Math.abs(d[y * W + x]! - Math.hypot(x, y)) < 1e-6);
});

test('connectedComponents: 4-connectivity, diagonal pixels are separate, labels in raster order', () => {
  const m = maskGrid(`
    1.1.11
    .1..1.
    1.1.1.
    ......
    11.1.1
    1..111`);
  const { labels, count } = connectedComponents(m.data, m.width, m.height);
  assert.equal(count, 8);
  assert.equal(
    show(labels, m.width),
    normalizeGrid(`
    1.2.33
    .4..3.
    5.6.3.
    ......
    77.8.8
    7..888`),
  );
});

test('connectedComponents: a U shape whose arms start separately is one object', () => {
  const m = maskGrid(`
    1.1
    1.1
    111`);
  const { labels, count } = connectedComponents(m.data, 3, 3);
  assert.equal(count, 1);
  assert.equal(
    show(labels, 3),
    normalizeGrid(`
    1.1
    1.1
    111`),
  );
  assert.equal(connectedComponents(new Uint8Array(6), 3, 2).count, 0);
});

test('labelAreas and removeSmallObjects: drops objects below minSize and renumbers 1..n in id order', () => {
  const g = grid(`
    3.77.
    ..77.
    5....
    5.99.
    5.9..`);
  assert.deepEqual(Array.from(labelAreas(g.data)), [0, 0, 0, 1, 0, 3, 0, 4, 0, 3]);
  const { labels, count } = removeSmallObjects(g.data, 3);
  assert.equal(count, 3);
  assert.equal(
    show(labels, g.width),
    normalizeGrid(`
    ..22.
    ..22.
    1....
    1.33.
    1.3..`),
  );
  const keepAll = removeSmallObjects(g.data, 1);
  assert.equal(keepAll.count, 4);
  assert.equal(removeSmallObjects(g.data, 5).count, 0);
  assert.ok(removeSmallObjects(g.data, 5).labels.every((v) => v === 0));
});

test('dilateIntoBackground: grows by one 3x3 step into background, largest id wins ties', () => {
  const g = grid(`
    .....
    .1.2.
    .....`);
  assert.equal(
    show(dilateIntoBackground(g.data, g.width, g.height), g.width),
    normalizeGrid(`
    11222
    11222
    11222`),
  );
  const tie = grid(`
    3.1
    ...`);
  assert.equal(
    show(dilateIntoBackground(tie.data, 3, 2), 3),
    normalizeGrid(`
    331
    331`),
  );
});

test('dilateIntoBackground never overwrites a label and grows only one step', () => {
  const g = grid(`
    15...
    .....
    .....
    ....2`);
  const out = dilateIntoBackground(g.data, g.width, g.height);
  assert.equal(
    show(out, g.width),
    normalizeGrid(`
    155..
    555..
    ...22
    ...22`),
  );
  // touching labels stay as they are
  const t = grid(`
    1122
    1122`);
  assert.deepEqual(dilateIntoBackground(t.data, 4, 2), t.data);
});
