// Tests of shared/src/image/scribbles.ts: scribbles synthesised from instance labels and outlines.
import assert from 'node:assert/strict';
import test from 'node:test';
import {
  connectedComponents,
  countScribbles,
  innerOutline,
  instancesToScribbles,
  type LabelImage,
  outlinesToScribbles,
  SCRIBBLE_BACKGROUND,
  SCRIBBLE_FOREGROUND,
  synthesizeScribbles,
} from '@impartial/shared';
import { fillRect, show } from '../../../helpers/grid.js';

const W = 48,
  H = 40;

/** Five separate cells in the left of a 48 x 40 image; the right 18 columns stay empty (for background strokes). */
function fiveCells(): LabelImage & { data: Int32Array } {
  const data = new Int32Array(W * H);
  fillRect(data, W, 2, 2, 12, 12, 1); // 10 x 10
  fillRect(data, W, 15, 3, 26, 11, 2); // 11 x 8
  fillRect(data, W, 3, 16, 10, 29, 3); // 7 x 13
  fillRect(data, W, 14, 17, 28, 27, 4); // 14 x 10
  fillRect(data, W, 4, 32, 12, 39, 5); // 8 x 7
  // make cell 4 an L shape
  fillRect(data, W, 22, 22, 28, 27, 0);
  return { width: W, height: H, data };
}

function cellMask(labels: LabelImage, id: number): Uint8Array {
  return Uint8Array.from(labels.data, (v) => (v === id ? 1 : 0));
}

/** Brute-force Euclidean distance from pixel i to the nearest labelled pixel. */
function distanceToCells(labels: LabelImage, i: number): number {
  const x = i % labels.width,
    y = (i - x) / labels.width;
  let best = Infinity;
  for (let j = 0; j < labels.data.length; j++) {
    if (!labels.data[j]) continue;
    const xx = j % labels.width,
      yy = (j - xx) / labels.width;
    best = Math.min(best, (x - xx) ** 2 + (y - yy) ** 2);
  }
  return Math.sqrt(best);
}

test('synthesizeScribbles is deterministic for a seed and depends on it', () => {
  const labels = fiveCells();
  const a = synthesizeScribbles(labels, { fraction: 0.4, seed: 7 });
  const b = synthesizeScribbles(labels, { fraction: 0.4, seed: 7 });
  assert.deepEqual(a.chosenCells, b.chosenCells);
  assert.deepEqual(a.scribbles.data, b.scribbles.data);
  const variants = new Set<string>();
  for (let seed = 0; seed < 10; seed++) {
    const r = synthesizeScribbles(labels, { fraction: 0.4, seed });
    variants.add(`${[...r.chosenCells].sort((p, q) => p - q).join(',')}|${show(r.scribbles.data, W)}`);
  }
  assert.ok(variants.size >= 3, `10 seeds gave only ${variants.size} different results`);
});

test('synthesizeScribbles chooses round(fraction * n) distinct cells, at least one', () => {
  const labels = fiveCells();
  const cases: Array<[number, number]> = [
    [0.2, 1],
    [0.4, 2],
    [0.5, 3],
    [0.6, 3],
    [1, 5],
    [0.01, 1],
    [0, 1],
  ];
  for (const [fraction, want] of cases) {
    const { chosenCells } = synthesizeScribbles(labels, { fraction, seed: 3 });
    assert.equal(chosenCells.length, want, `fraction ${fraction}`);
    assert.equal(new Set(chosenCells).size, want, `fraction ${fraction}: duplicates in ${chosenCells}`);
    for (const id of chosenCells) assert.ok(id >= 1 && id <= 5, `unknown cell ${id}`);
  }
  const empty = synthesizeScribbles(
    { width: 10, height: 10, data: new Int32Array(100) },
    { fraction: 0.5, seed: 1, backgroundStrokes: false },
  );
  assert.deepEqual(empty.chosenCells, []);
  assert.deepEqual(countScribbles(empty.scribbles), { foreground: 0, background: 0 });
});

test('synthesizeScribbles: foreground in chosen cells only; background on their outline or >= 3 px away', () => {
  const labels = fiveCells();
  for (const seed of [1, 2, 3]) {
    const { scribbles, chosenCells } = synthesizeScribbles(labels, { fraction: 0.4, seed });
    assert.equal(scribbles.width, W);
    assert.equal(scribbles.height, H);
    const chosen = new Set(chosenCells);
    const outline = new Uint8Array(W * H);
    for (const id of chosenCells)
      innerOutline(cellMask(labels, id), W, H).forEach((v, i) => {
        if (v) outline[i] = 1;
      });
    let strokes = 0;
    for (let i = 0; i < W * H; i++) {
      const s = scribbles.data[i]!,
        id = labels.data[i]!;
      assert.ok(s === 0 || s === SCRIBBLE_FOREGROUND || s === SCRIBBLE_BACKGROUND, `value ${s}`);
      if (s === SCRIBBLE_FOREGROUND) {
        assert.ok(chosen.has(id), `seed ${seed}: foreground at pixel ${i} in cell ${id}, chosen ${chosenCells}`);
        assert.equal(outline[i], 0, 'foreground on an outline pixel');
      } else if (s === SCRIBBLE_BACKGROUND) {
        if (outline[i]) continue;
        assert.equal(id, 0, `seed ${seed}: background at pixel ${i} inside cell ${id} but not on a chosen outline`);
        assert.ok(
          distanceToCells(labels, i) >= 3,
          `seed ${seed}: background stroke pixel ${i} is ${distanceToCells(labels, i)} px from a cell`,
        );
        strokes++;
      }
      // the whole inner outline of every chosen cell is background (background wins over foreground)
      if (outline[i]) assert.equal(s, SCRIBBLE_BACKGROUND, `seed ${seed}: outline pixel ${i} is ${s}`);
    }
    assert.ok(strokes > 0, `seed ${seed}: no background strokes away from cells`);
    // every chosen cell got some foreground; unchosen cells got nothing
    for (let id = 1; id <= 5; id++) {
      let fg = 0,
        any = 0;
      for (let i = 0; i < W * H; i++)
        if (labels.data[i] === id) {
          if (scribbles.data[i] === SCRIBBLE_FOREGROUND) fg++;
          if (scribbles.data[i]) any++;
        }
      if (chosen.has(id)) assert.ok(fg > 0, `chosen cell ${id} has no foreground`);
      else assert.equal(any, 0, `unchosen cell ${id} has scribbles`);
    }
  }
});

test("synthesizeScribbles without background strokes: background is exactly the chosen cells' inner outlines", () => {
  const labels = fiveCells();
  const { scribbles, chosenCells } = synthesizeScribbles(labels, { fraction: 0.6, seed: 11, backgroundStrokes: false });
  const outline = new Uint8Array(W * H);
  for (const id of chosenCells)
    innerOutline(cellMask(labels, id), W, H).forEach((v, i) => {
      if (v) outline[i] = 1;
    });
  for (let i = 0; i < W * H; i++)
    assert.equal(scribbles.data[i] === SCRIBBLE_BACKGROUND ? 1 : 0, outline[i], `pixel ${i}`);
});

test('foreground of a 10 x 10 cell: the ring 2 px inside (6 x 6 outline) and a skeleton, >= 2 px from the edge', () => {
  const labels = { width: 16, height: 16, data: new Int32Array(256) };
  fillRect(labels.data, 16, 3, 3, 13, 13, 1); // x, y in 3..12
  const s = instancesToScribbles(labels);
  for (let y = 0; y < 16; y++)
    for (let x = 0; x < 16; x++) {
      const v = s.data[y * 16 + x]!;
      const inCell = x >= 3 && x <= 12 && y >= 3 && y <= 12;
      const onOutline = inCell && (x === 3 || x === 12 || y === 3 || y === 12);
      const onRing = x >= 5 && x <= 10 && y >= 5 && y <= 10 && (x === 5 || x === 10 || y === 5 || y === 10);
      const deep = x >= 6 && x <= 9 && y >= 6 && y <= 9;
      if (onOutline) assert.equal(v, SCRIBBLE_BACKGROUND, `(${x},${y})`);
      else if (onRing) assert.equal(v, SCRIBBLE_FOREGROUND, `(${x},${y})`);
      else if (!deep) assert.equal(v, 0, `(${x},${y}) should be unannotated\n${show(s.data, 16)}`);
      else assert.notEqual(v, SCRIBBLE_BACKGROUND, `(${x},${y})`);
    }
});

test('outlinesToScribbles of a square polygon: background on its 1 px outline, foreground strictly inside', () => {
  const s = outlinesToScribbles(
    [
      [
        [5, 5],
        [15, 5],
        [15, 15],
        [5, 15],
      ],
    ],
    20,
    20,
  ); // pixels 5..14
  const counts = countScribbles(s);
  assert.equal(counts.background, 36);
  for (let y = 0; y < 20; y++)
    for (let x = 0; x < 20; x++) {
      const v = s.data[y * 20 + x]!;
      const inside = x >= 5 && x <= 14 && y >= 5 && y <= 14;
      const outline = inside && (x === 5 || x === 14 || y === 5 || y === 14);
      const ring = x >= 7 && x <= 12 && y >= 7 && y <= 12 && (x === 7 || x === 12 || y === 7 || y === 12);
      if (outline) assert.equal(v, SCRIBBLE_BACKGROUND, `(${x},${y})`);
      else if (ring) assert.equal(v, SCRIBBLE_FOREGROUND, `(${x},${y})`);
      else if (v === SCRIBBLE_FOREGROUND)
        assert.ok(x >= 8 && x <= 11 && y >= 8 && y <= 11, `foreground at (${x},${y})`);
      else assert.equal(v, 0, `(${x},${y})\n${show(s.data, 20)}`);
    }
  // polygons outside the image give nothing
  assert.deepEqual(
    countScribbles(
      outlinesToScribbles(
        [
          [
            [30, 30],
            [40, 30],
            [40, 40],
          ],
        ],
        20,
        20,
      ),
    ),
    { foreground: 0, background: 0 },
  );
});

test('instancesToScribbles equals synthesizeScribbles of every cell without background strokes', () => {
  const labels = fiveCells();
  const all = instancesToScribbles(labels);
  const synth = synthesizeScribbles(labels, { fraction: 1, seed: 5, backgroundStrokes: false });
  assert.deepEqual(all.data, synth.scribbles.data);
  const counts = countScribbles(all);
  let outline = 0;
  for (let id = 1; id <= 5; id++) for (const v of innerOutline(cellMask(labels, id), W, H)) outline += v;
  assert.equal(counts.background, outline);
  assert.ok(counts.foreground > 0);
});

test('two touching cells: the shared boundary pixels are background, and their foregrounds do not touch', () => {
  const w = 22,
    h = 14;
  const labels = { width: w, height: h, data: new Int32Array(w * h) };
  fillRect(labels.data, w, 2, 2, 10, 12, 1); // x 2..9
  fillRect(labels.data, w, 10, 2, 18, 12, 2); // x 10..17
  const s = instancesToScribbles(labels);
  for (let y = 2; y < 12; y++) {
    assert.equal(s.data[y * w + 9], SCRIBBLE_BACKGROUND, `cell 1 boundary (9,${y})`);
    assert.equal(s.data[y * w + 10], SCRIBBLE_BACKGROUND, `cell 2 boundary (10,${y})`);
  }
  const fg = Uint8Array.from(s.data, (v) => (v === SCRIBBLE_FOREGROUND ? 1 : 0));
  const { labels: parts, count } = connectedComponents(fg, w, h);
  assert.ok(count >= 2, `foreground has ${count} piece(s)\n${show(s.data, w)}`);
  for (let k = 1; k <= count; k++) {
    const cells = new Set<number>();
    parts.forEach((p, i) => {
      if (p === k) cells.add(labels.data[i]!);
    });
    assert.equal(cells.size, 1, `a foreground piece spans cells ${[...cells]}`);
    assert.ok(!cells.has(0), 'foreground outside the cells');
  }
  // the same holds through outlinesToScribbles with the two cells as polygons
  const viaPolygons = outlinesToScribbles(
    [
      [
        [2, 2],
        [10, 2],
        [10, 12],
        [2, 12],
      ],
      [
        [10, 2],
        [18, 2],
        [18, 12],
        [10, 12],
      ],
    ],
    w,
    h,
  );
  assert.deepEqual(viaPolygons.data, s.data);
});
