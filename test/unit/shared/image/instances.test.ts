// Tests of shared/src/image/instances.ts: probability maps to instance labels (probabilityToInstances).
import assert from 'node:assert/strict';
import test from 'node:test';
import { CORE_DEPTH, coreMap, type FloatImage, probabilityToInstances } from '@impartial/shared';
import { show } from '../../../helpers/grid.js';
import { SEAM_W, seamCells } from '../../../helpers/seam-cells.js';

/** Two round cells (peak 0.95) joined by a bridge of p = 0.7, plus a 2x2 speck. */
function touchingCells(): FloatImage {
  const width = 40,
    height = 20,
    data = new Float32Array(width * height).fill(0.05);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const d1 = Math.hypot(x - 11, y - 10),
        d2 = Math.hypot(x - 27, y - 10);
      if (d1 < 6 || d2 < 6) data[y * width + x] = 0.95;
      else if (x >= 16 && x <= 22 && Math.abs(y - 10) <= 2) data[y * width + x] = 0.7;
    }
  for (const [x, y] of [
    [37, 1],
    [38, 1],
    [37, 2],
    [38, 2],
  ])
    data[y! * width + x!] = 0.9;
  return { width, height, data };
}

const ids = (labels: Int32Array) => new Set([...labels].filter((v) => v > 0));

test('connected components keep cells joined by a bridge above the threshold together', () => {
  const r = probabilityToInstances(touchingCells(), {
    threshold: 0.5,
    separation: 'components',
    minSize: 5,
    dilation: 0,
  });
  assert.equal(r.count, 1, 'the 4-pixel speck is dropped, the two cells are one region');
  assert.equal(ids(r.data).size, 1);
});

test('the seeded watershed splits them at the saddle and keeps every pixel above the threshold', () => {
  const p = touchingCells();
  const r = probabilityToInstances(p, {
    threshold: 0.5,
    separation: 'seeded',
    seedThreshold: 0.8,
    minSize: 5,
    dilation: 0,
  });
  assert.equal(r.count, 2);
  const left = r.data[10 * 40 + 11]!,
    right = r.data[10 * 40 + 27]!;
  assert.ok(left > 0 && right > 0 && left !== right);
  for (let i = 0; i < p.data.length; i++) {
    const x = i % 40;
    if (p.data[i]! > 0.5 && x < 35) assert.ok(r.data[i]! > 0, `pixel ${i} above the threshold is labelled`);
    if (p.data[i]! <= 0.5) assert.equal(r.data[i], 0);
  }
  // the bridge is shared out: its left end goes to the left cell, its right end to the right one
  assert.equal(r.data[10 * 40 + 17], left);
  assert.equal(r.data[10 * 40 + 21], right);
});

test('dilation grows cells by one pixel into background only', () => {
  const p = touchingCells();
  const plain = probabilityToInstances(p, { threshold: 0.5, separation: 'seeded', seedThreshold: 0.8, dilation: 0 });
  const grown = probabilityToInstances(p, { threshold: 0.5, separation: 'seeded', seedThreshold: 0.8, dilation: 1 });
  let added = 0;
  for (let i = 0; i < p.data.length; i++) {
    if (plain.data[i]) assert.equal(grown.data[i], plain.data[i], 'existing pixels keep their cell');
    else if (grown.data[i]) added++;
  }
  assert.ok(added > 20, `${added} pixels added`);
});

test('seeds below the seed size floor do not make cells of their own', () => {
  const p = touchingCells();
  const r = probabilityToInstances(p, {
    threshold: 0.5,
    separation: 'seeded',
    seedThreshold: 0.8,
    seedMinSize: 200,
    minSize: 5,
    dilation: 0,
  });
  assert.equal(r.count, 1, 'no seed is big enough: the region is one cell, as with connected components');
});

test('probabilityToInstances on the touching cells: merged below the seam value, separated above', () => {
  const { prob, outlined } = seamCells();
  const merged = probabilityToInstances(prob, { threshold: 0.5 });
  assert.equal(merged.count, 1);
  const split = probabilityToInstances(prob, { threshold: 0.75 });
  assert.equal(split.count, 2);
  assert.deepEqual(split.data, outlined.data, show(split.data, SEAM_W));
  assert.equal(probabilityToInstances(prob, { threshold: 0.95 }).count, 0);
});

/** Two discs of radius 8 overlapping into a figure eight: p is 0.95 everywhere on them, so p shows no waist. */
function figureEight(): { p: FloatImage; left: number; right: number } {
  const width = 44,
    height = 24,
    data = new Float32Array(width * height).fill(0.02);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if (Math.hypot(x - 14, y - 12) <= 8 || Math.hypot(x - 28, y - 12) <= 8) data[y * width + x] = 0.95;
  return { p: { width, height, data }, left: 12 * width + 14, right: 12 * width + 28 };
}

test('coreMap is depth times p over CORE_DEPTH: 0 off the cut, deepest in the middle of each disc', () => {
  const { p, left } = figureEight();
  const mask = new Uint8Array(p.data.length);
  for (let i = 0; i < mask.length; i++) mask[i] = p.data[i]! > 0.5 ? 1 : 0;
  const core = coreMap(p, mask);
  for (let i = 0; i < mask.length; i++) if (!mask[i]) assert.equal(core.data[i], 0);
  // the disc's middle lies 8-9 px from the background (8.06: the pixel at +4, +7), the waist (x = 21) 4 px
  const middle = core.data[left]!;
  assert.ok(middle >= (8 * 0.95) / CORE_DEPTH && middle <= (9 * 0.95) / CORE_DEPTH, `middle ${middle}`);
  const waist = core.data[12 * 44 + 21]!;
  assert.ok(Math.abs(waist - (4 * 0.95) / CORE_DEPTH) < 1e-6, `waist ${waist}`);
});

test("the 'distance' separation splits touching cells that p cannot: seeds from their cores", () => {
  const { p, left, right } = figureEight();
  const seeded = probabilityToInstances(p, { threshold: 0.5, separation: 'seeded', seedThreshold: 0.9, dilation: 0 });
  assert.equal(seeded.count, 1, 'p is flat over both discs: one seed, one cell');
  const split = probabilityToInstances(p, {
    threshold: 0.5,
    separation: 'distance',
    seedThreshold: 5 / CORE_DEPTH,
    seedMinSize: 5,
    dilation: 0,
  });
  assert.equal(split.count, 2);
  assert.ok(split.data[left]! > 0 && split.data[right]! > 0 && split.data[left] !== split.data[right]);
  // every pixel of the cut is labelled, and each disc's far side goes with its own middle
  for (let i = 0; i < p.data.length; i++) assert.equal(split.data[i]! > 0, p.data[i]! > 0.5, `pixel ${i}`);
  assert.equal(split.data[12 * 44 + 7], split.data[left]);
  assert.equal(split.data[12 * 44 + 35], split.data[right]);
});

test("a shallow seed level keeps the figure eight one cell under 'distance' too", () => {
  const { p } = figureEight();
  const r = probabilityToInstances(p, { threshold: 0.5, separation: 'distance', seedThreshold: 2 / CORE_DEPTH });
  assert.equal(r.count, 1, 'the seed at 2 px deep spans the waist');
});
