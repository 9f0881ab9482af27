// Tests of shared/src/image/contours.ts: outlines of labelled objects (labelOutlines, signedArea).
import assert from 'node:assert/strict';
import test from 'node:test';
import {
  connectedComponents,
  type LabelImage,
  labelOutlines,
  type Polygon,
  polygonsToLabels,
  signedArea,
  syntheticCells,
} from '@impartial/shared';
import { grid, normalizeGrid, show } from '../../../helpers/grid.js';

test('signedArea is positive for clockwise-on-screen loops (outer outlines) and negative reversed', () => {
  const square: Polygon = [
    [0, 0],
    [2, 0],
    [2, 2],
    [0, 2],
  ];
  assert.equal(signedArea(square), 4);
  assert.equal(signedArea([...square].reverse()), -4);
  assert.equal(
    signedArea([
      [1, 1],
      [4, 1],
      [4, 2],
      [2, 2],
      [2, 4],
      [1, 4],
    ]),
    5,
  ); // L shape: 3 + 2
});

/** Rasterises every outline together and checks each object comes back exactly (after relabelling). */
function roundTrip(labels: LabelImage, skip: ReadonlySet<number> = new Set()): { compared: number } {
  const outlines = labelOutlines(labels);
  const ids = [...outlines.keys()];
  const back = polygonsToLabels([...outlines.values()], labels.width, labels.height);
  let compared = 0;
  ids.forEach((id, k) => {
    const polygon = outlines.get(id)!;
    assert.ok(signedArea(polygon) > 0, `outline of ${id} has signed area ${signedArea(polygon)}`);
    for (const [x, y] of polygon)
      assert.ok(
        Number.isInteger(x) && Number.isInteger(y),
        `outline of ${id} has vertex (${x},${y}) off the pixel corners`,
      );
    if (skip.has(id)) return;
    compared++;
    const differ: number[] = [];
    for (let i = 0; i < labels.data.length; i++)
      if ((back.data[i] === k + 1) !== (labels.data[i] === id)) differ.push(i);
    if (differ.length)
      assert.fail(
        `object ${id}: ${differ.length} pixels differ (first ${differ[0]})\n` +
          `${show(labels.data, labels.width)}\n---\n${show(back.data, labels.width)}`,
      );
  });
  return { compared };
}

test('labels -> outlines -> labels reproduces rectangles, L/U/T shapes, lines, pixels, border objects', () => {
  const g = grid(`
    11111....3
    11111..2.3
    ......22.3
    44.....2..
    4..555....
    4..5.5.66.
    44.5.5.66.
    ..........
    7.8888..9.
    7...8..999
    77..8...9.`);
  const { compared } = roundTrip(g);
  assert.equal(compared, 9);
  // outline vertices of the 5 x 2 rectangle are its 4 corners
  const rect = labelOutlines(g).get(1)!;
  assert.equal(rect.length, 4);
  assert.deepEqual([...rect].map(([x, y]) => `${x},${y}`).sort(), ['0,0', '0,2', '5,0', '5,2']);
  assert.equal(signedArea(rect), 10);
});

test('touching objects round-trip exactly and keep their shared edges', () => {
  const g = grid(`
    1122233
    1122233
    1442553
    4444555`);
  assert.equal(roundTrip(g).compared, 5);
});

test('an object with a hole gives its outer outline (the hole filled)', () => {
  const g = grid(`
    .......
    .11111.
    .1...1.
    .1.2.1.
    .1...1.
    .11111.
    .......`);
  const outlines = labelOutlines(g);
  const outer = outlines.get(1)!;
  assert.equal(signedArea(outer), 25);
  const back = polygonsToLabels([outer], 7, 7);
  assert.equal(
    show(back.data, 7),
    normalizeGrid(`
    .......
    .11111.
    .11111.
    .11111.
    .11111.
    .11111.
    .......`),
  );
  assert.equal(signedArea(outlines.get(2)!), 1);
});

test('an object in two diagonal pieces: the outline holds one piece, not a figure eight through the corner', () => {
  const g = grid(`
    11..
    11..
    ..11
    ..11`);
  const outline = labelOutlines(g).get(1)!;
  assert.equal(signedArea(outline), 4);
  const back = show(polygonsToLabels([outline], 4, 4).data, 4);
  const first = normalizeGrid(`
    11..
    11..
    ....
    ....`);
  const second = normalizeGrid(`
    ....
    ....
    ..11
    ..11`);
  assert.ok(back === first || back === second, back);
  // the larger of two separate pieces wins
  const h = grid(`
    1..111
    ...111`);
  assert.equal(
    show(polygonsToLabels([labelOutlines(h).get(1)!], 6, 2).data, 6),
    normalizeGrid(`
    ...111
    ...111`),
  );
});

test('a ring closed only by a diagonal corner keeps its inside out (4-connected cells, 8-connected background)', () => {
  // (2,3) and (3,2) meet at a corner: the inside connects diagonally to the outside, so it is no hole;
  // the outline must turn right at that corner and trace one loop of area 11 (a left turn gives a 15 px filled ring).
  const g = grid(`
    1111.
    1..1.
    1..1.
    111..
    .....`);
  const outline = labelOutlines(g).get(1)!;
  assert.equal(signedArea(outline), 11);
  assert.equal(roundTrip(g).compared, 1);
});

test('a thick diagonal band round-trips', () => {
  const g = grid(`
    11.....
    111....
    .111...
    ..111..
    ...111.
    ....111
    .....11`);
  assert.equal(roundTrip(g).compared, 1);
});

/** Objects whose 4-connected pieces number more than one, or that enclose background or other labels. */
function irregularObjects(labels: LabelImage): Set<number> {
  const { width, height, data } = labels;
  const out = new Set<number>();
  const ids = new Set<number>();
  for (const v of data) if (v > 0) ids.add(v);
  for (const id of ids) {
    const mask = Uint8Array.from(data, (v) => (v === id ? 1 : 0));
    if (connectedComponents(mask, width, height).count !== 1) {
      out.add(id);
      continue;
    }
    // holes: pixels outside the object not 4-connected to the raster border
    const notMask = Uint8Array.from(mask, (v) => 1 - v);
    const { labels: parts } = connectedComponents(notMask, width, height);
    const touching = new Set<number>();
    for (let x = 0; x < width; x++) {
      touching.add(parts[x]!);
      touching.add(parts[(height - 1) * width + x]!);
    }
    for (let y = 0; y < height; y++) {
      touching.add(parts[y * width]!);
      touching.add(parts[y * width + width - 1]!);
    }
    if (parts.some((p) => p > 0 && !touching.has(p))) out.add(id);
  }
  return out;
}

test('synthetic cells (96 x 96, seed 1): every simple object round-trips through its outline exactly', () => {
  const { labels } = syntheticCells({ width: 96, height: 96, channels: 2, seed: 1 });
  const ids = new Set<number>();
  for (const v of labels.data) if (v > 0) ids.add(v);
  assert.ok(ids.size >= 20, `only ${ids.size} cells`);
  const skip = irregularObjects(labels);
  const { compared } = roundTrip(labels, skip);
  assert.equal(compared, ids.size - skip.size);
  assert.ok(compared >= 0.8 * ids.size, `compared only ${compared} of ${ids.size} objects`);
  // multi-piece objects come back as their largest piece
  const outlines = labelOutlines(labels);
  for (const id of skip) {
    const mask = Uint8Array.from(labels.data, (v) => (v === id ? 1 : 0));
    const { labels: parts, count } = connectedComponents(mask, 96, 96);
    if (count === 1) continue;
    const areas = new Array<number>(count + 1).fill(0);
    for (const p of parts) if (p) areas[p]!++;
    const back = polygonsToLabels([outlines.get(id)!], 96, 96);
    let n = 0;
    for (const v of back.data) n += v;
    assert.equal(
      n,
      Math.max(...areas),
      `object ${id}: outline covers ${n} px, largest piece has ${Math.max(...areas)}`,
    );
  }
});
