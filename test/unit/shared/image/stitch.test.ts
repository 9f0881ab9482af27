// Tests of shared/src/image/stitch.ts: instances cut block by block keep one id per cell across borders.
import assert from 'node:assert/strict';
import test from 'node:test';
import { type InstanceOptions, InstanceStitcher, Random } from '@impartial/shared';
import { blocksOf, compareStitching, stitchedCut } from '../../../helpers/stitching.js';

/** One L-shaped cell through three of four 32-px blocks of a 64 x 64 map, away from their common corner. */
function lShapedCell(): Float32Array {
  const p = new Float32Array(64 * 64).fill(0.05);
  for (let y = 0; y < 64; y++)
    for (let x = 0; x < 64; x++)
      if ((x >= 40 && x < 48 && y >= 10 && y < 50) || (y >= 42 && y < 50 && x >= 10 && x < 48)) p[y * 64 + x] = 0.9;
  return p;
}

const idsOf = (labels: Uint32Array) => new Set([...labels].filter((v) => v > 0));

test('a cell crossing a block border keeps one id, whichever block is cut first', () => {
  const p = lShapedCell();
  const blocks = blocksOf(64, 64, 32);
  for (const order of [blocks, [...blocks].reverse()]) {
    const { labels, cells } = stitchedCut(p, 64, 64, order, 4);
    assert.deepEqual([...idsOf(labels)].length, 1);
    assert.equal(cells, 1);
  }
});

test('a cell joining two ids of blocks that never saw each other merges them, and the older block is rewritten', () => {
  const p = lShapedCell();
  const [tl, tr, bl, br] = blocksOf(64, 64, 32);
  // Top-right and bottom-left meet only at the corner, where the cell is not: they give it two ids.
  const { labels, cells, rewrites } = stitchedCut(p, 64, 64, [tr!, bl!, br!, tl!], 4, { dilation: 0 });
  assert.equal(rewrites, 1, 'one block holds the merged id');
  assert.equal(idsOf(labels).size, 1, 'one id after the rewrite');
  assert.equal(cells, 1);
});

test('committing a block again replaces its cut and keeps the ids its neighbours hold', () => {
  const p = lShapedCell();
  const blocks = blocksOf(64, 64, 32);
  const once = stitchedCut(p, 64, 64, blocks, 4);
  const twice = stitchedCut(p, 64, 64, [...blocks, blocks[3]!, blocks[1]!], 4);
  assert.deepEqual(twice.labels, once.labels);
  assert.equal(twice.cells, 1);
});

test('block labels of the wrong size are refused', () => {
  const r = { x: 0, y: 0, width: 4, height: 4 };
  assert.throws(
    () => new InstanceStitcher().stitch(r, new Int32Array(15), new Uint32Array(16), r, r),
    /15 and 16 pixels/,
  );
});

test('a slide cut in blocks in any order, each block seeing its margin differently, matches one whole cut', () => {
  const slide = { width: 2048, height: 2048, channels: 3, seed: 5 };
  const rng = new Random(3);
  const orders = {
    'row by row': (b: typeof blocks) => b,
    'completion order of several workers': (b: typeof blocks) => rng.permutation(b),
  };
  const blocks = blocksOf(2048, 2048, 256);
  const cuts: Array<[string, Partial<InstanceOptions>]> = [
    ['components', {}],
    ['seeded', { separation: 'seeded' }],
    ['distance', { separation: 'distance', seedThreshold: 0.25 }],
  ];
  for (const [[name, order], [cutName, options]] of Object.entries(orders).flatMap((o) =>
    cuts.map((c) => [o, c] as const),
  )) {
    // Each block's values on its margin are off by up to 0.6 (as a net's are with less context there).
    const r = compareStitching(slide, 256, 32, order, options, 0.6);
    assert.ok(r.crossingBorders > 200, `${name}, ${cutName}: ${r.crossingBorders} cells cross block borders`);
    assert.equal(r.stitched.cutByStitching, 0, `${name}, ${cutName}: cells cut at a border`);
    // The components cut goes by the values written, so its cells are the whole cut's, pixel for pixel
    // (the seeded floods also depend on seeds beyond the margin, and the cores on the depth seen there:
    // a cell's edge may differ).
    const { split, merged, onlyOne } = r.stitched.partition;
    if (cutName === 'components') assert.deepEqual([split, merged, onlyOne], [0, 0, 0], `${name}: the cells differ`);
    else assert.ok(split + merged <= 3, `${name}, ${cutName}: ${split} split, ${merged} merged`);
    assert.ok(
      Math.abs(r.stitched.scores.f1 - r.whole.scores.f1) <= 0.01,
      `${name}, ${cutName}: F1 ${JSON.stringify(r)}`,
    );
    assert.equal(r.stitched.cells, r.whole.cells, `${name}, ${cutName}`);
  }
});
