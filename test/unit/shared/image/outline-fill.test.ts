// Tests of shared/src/image/outline-fill.ts: outlined cells completed for training (fillOutlinedCells) and labelled.
import assert from 'node:assert/strict';
import test from 'node:test';
import {
  SCRIBBLE_BACKGROUND as B,
  SCRIBBLE_FOREGROUND as F,
  fillOutlinedCells,
  type LabelImage,
  outlinedCells,
  synthesizeScribbles,
} from '@impartial/shared';

/** A raster from rows of '.', 'F' (cell stroke) and 'B' (background stroke). */
function raster(rows: string[]): LabelImage {
  const width = rows[0]!.length,
    height = rows.length;
  const data = new Int32Array(width * height);
  rows.forEach((row, y) => {
    for (let x = 0; x < width; x++) data[y * width + x] = row[x] === 'F' ? F : row[x] === 'B' ? B : 0;
  });
  return { width, height, data };
}
const text = (r: LabelImage) =>
  Array.from({ length: r.height }, (_, y) =>
    Array.from(r.data.subarray(y * r.width, (y + 1) * r.width), (v) => (v === F ? 'F' : v === B ? 'B' : '.')).join(''),
  );

test('a closed outline around a cell stroke is filled as cell; its outline stays background', () => {
  const drawn = raster(['.......', '.BBBBB.', '.B...B.', '.B.F.B.', '.B...B.', '.BBBBB.', '.......']);
  assert.deepEqual(text(fillOutlinedCells(drawn)), [
    '.......',
    '.BBBBB.',
    '.BFFFB.',
    '.BFFFB.',
    '.BFFFB.',
    '.BBBBB.',
    '.......',
  ]);
});

test('open outlines, outlines at the edge, empty loops and loops with few cell strokes stay as drawn', () => {
  const open = raster(['.......', '.BBBBB.', '.B...B.', '.B.F...', '.B...B.', '.BBBBB.', '.......']);
  assert.deepEqual(fillOutlinedCells(open).data, open.data, 'a gap in the outline: the region reaches the rest');
  const atEdge = raster(['B.F.B..', 'B...B..', 'BBBBB..', '.......']);
  assert.deepEqual(fillOutlinedCells(atEdge).data, atEdge.data, 'the region touches the edge: it may be open');
  const empty = raster(['.....', '.BBB.', '.B.B.', '.BBB.', '.....']);
  assert.deepEqual(fillOutlinedCells(empty).data, empty.data, 'no cell stroke inside');
  const cluster = raster(['.......', '.BBBBB.', '.B...B.', '.B.F.B.', '.B...B.', '.BBBBB.', '.......']);
  assert.deepEqual(fillOutlinedCells(cluster, { minCellShare: 0.2 }).data, cluster.data, '1 of 9 pixels is a stroke');
  assert.deepEqual(fillOutlinedCells(cluster, { maxArea: 8 }).data, cluster.data, '9 pixels enclosed, over the cap');
});

test('on synthesised outline scribbles every outlined cell is filled up to its outline and nothing else', () => {
  // Three separate square cells and one touching pair, all outlined.
  const width = 60,
    height = 30,
    labels = new Int32Array(width * height);
  const square = (id: number, x0: number, y0: number, size: number) => {
    for (let y = y0; y < y0 + size; y++) for (let x = x0; x < x0 + size; x++) labels[y * width + x] = id;
  };
  square(1, 4, 4, 10);
  square(2, 20, 4, 12);
  square(3, 36, 4, 12);
  square(4, 48, 4, 8); // touches cell 3
  square(5, 6, 18, 9);
  const truth = { width, height, data: labels };
  const { scribbles } = synthesizeScribbles(truth, { fraction: 1, seed: 0 });
  const filled = fillOutlinedCells(scribbles);
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] && scribbles.data[i] !== B)
      assert.equal(filled.data[i], F, `pixel ${i} of cell ${labels[i]} is cell`);
    if (!labels[i]) assert.equal(filled.data[i], scribbles.data[i], `pixel ${i} off the cells is as drawn`);
    if (scribbles.data[i] === B) assert.equal(filled.data[i], B, 'outlines stay background');
  }
});

test('outlinedCells labels each completed cell with its outline, and nothing else', () => {
  const drawn = raster([
    '............',
    '.BBBBB.BBBB.',
    '.B...B.B..B.',
    '.B.F.B.B..B.',
    '.B...B.BBBB.',
    '.BBBBB......',
    'F.B.........',
    'BBB.........',
  ]);
  const cells = outlinedCells(drawn);
  const rows = Array.from({ length: cells.height }, (_, y) =>
    Array.from(cells.data.subarray(y * cells.width, (y + 1) * cells.width), (v) => (v ? String(v) : '.')).join(''),
  );
  // The empty loop on the right holds no cell stroke; the one at the lower left reaches the edge.
  assert.deepEqual(rows, [
    '............',
    '.11111......',
    '.11111......',
    '.11111......',
    '.11111......',
    '.11111......',
    '............',
    '............',
  ]);
});

test('outerRing marks the unscribbled pixels just outside a filled outline as background, and nothing else', () => {
  // A filled cell whose right edge touches an unscribbled region, and an open loop that is not filled.
  const drawn = raster(['.........', '.BBBBB...', '.B...B...', '.B.F.B.F.', '.B...B...', '.BBBBB...', '.........']);
  assert.deepEqual(text(fillOutlinedCells(drawn, { outerRing: true })), [
    '.BBBBB...',
    'BBBBBBB..',
    'BBFFFBB..',
    'BBFFFBBF.',
    'BBFFFBB..',
    'BBBBBBB..',
    '.BBBBB...',
  ]);
  assert.deepEqual(
    text(fillOutlinedCells(drawn)),
    text(fillOutlinedCells(drawn, { outerRing: false })),
    'off by default',
  );
  const open = raster(['.......', '.BBBBB.', '.B...B.', '.B.F...', '.B...B.', '.BBBBB.', '.......']);
  assert.deepEqual(fillOutlinedCells(open, { outerRing: true }).data, open.data, 'an open outline gets no ring');
  // Two outlined cells sharing an edge: the ring goes around the pair and leaves both interiors cell.
  const pair = raster([
    '...........',
    '.BBBBBBBBB.',
    '.B...B...B.',
    '.B.F.B.F.B.',
    '.B...B...B.',
    '.BBBBBBBBB.',
    '...........',
  ]);
  assert.deepEqual(text(fillOutlinedCells(pair, { outerRing: true })), [
    '.BBBBBBBBB.',
    'BBBBBBBBBBB',
    'BBFFFBFFFBB',
    'BBFFFBFFFBB',
    'BBFFFBFFFBB',
    'BBBBBBBBBBB',
    '.BBBBBBBBB.',
  ]);
});
