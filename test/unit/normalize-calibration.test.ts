import assert from 'node:assert/strict';
import test from 'node:test';
import {
  chooseInstanceParameters,
  type FloatImage,
  keepLabels,
  type LabelImage,
  type MultiChannelImage,
  normalizeImage,
  outlineAgreement,
  percentileRange,
  percentiles,
  probabilityToInstances,
  scoreThresholds,
  seedMinSizeFor,
  THRESHOLD_SWEEP,
} from '@impartial/shared';
import { fillRect, show } from '../helpers/grid.js';

/** The threshold the engine picks with plain connected components. */
const chooseThreshold = (p: FloatImage[], o: LabelImage[]) =>
  chooseInstanceParameters(p, o, { separation: 'components' }).threshold;

const near = (a: number, b: number, tol = 1e-6) => Math.abs(a - b) <= tol;

test('percentiles match numpy (linear interpolation)', () => {
  const oneToHundred = Array.from({ length: 100 }, (_, i) => i + 1);
  // np.percentile(np.arange(1, 101), [0, 1, 25, 50, 98, 99.5, 100]) = [1, 1.99, 25.75, 50.5, 98.02, 99.505, 100]
  const got = percentiles(oneToHundred, [0, 1, 25, 50, 98, 99.5, 100]);
  const want = [1, 1.99, 25.75, 50.5, 98.02, 99.505, 100];
  for (const [i, g] of got.entries()) {
    assert.ok(near(g, want[i]!), `p${[0, 1, 25, 50, 98, 99.5, 100][i]}: got ${g}, want ${want[i]}`);
  }
  // order of the input does not matter
  const shuffled = [...oneToHundred].sort((a, b) => ((a * 37) % 101) - ((b * 37) % 101));
  assert.deepEqual(percentiles(shuffled, [1, 98]), percentiles(oneToHundred, [1, 98]));
  // np.percentile([3, 1, 2], [25, 50]) = [1.5, 2]; np.percentile([10, -4, 7, 0], 75) = 7.75
  assert.deepEqual(percentiles([3, 1, 2], [25, 50]), [1.5, 2]);
  assert.deepEqual(percentiles(Float32Array.from([10, -4, 7, 0]), [75]), [7.75]);
  assert.deepEqual(percentiles([42], [0, 50, 100]), [42, 42, 42]);
  assert.throws(() => percentiles([], [50]), /empty/);
});

test('normalizeImage maps the joint p1 to 0 and p98 to 1, without clipping', () => {
  // two channels holding 1..50 and 51..100: joint percentiles of 1..100
  const data = Float32Array.from({ length: 100 }, (_, i) => i + 1);
  const image: MultiChannelImage = { width: 10, height: 5, channels: 2, data, channelNames: ['a', 'b'] };
  const range = percentileRange(image);
  assert.ok(near(range.low, 1.99) && near(range.high, 98.02), JSON.stringify(range));
  const norm = normalizeImage(image);
  assert.deepEqual([norm.width, norm.height, norm.channels, norm.channelNames], [10, 5, 2, ['a', 'b']]);
  const scale = 98.02 - 1.99;
  assert.ok(near(norm.data[0]!, (1 - 1.99) / scale, 1e-6), `min -> ${norm.data[0]}`); // below 0: no clipping
  assert.ok(norm.data[0]! < 0);
  assert.ok(near(norm.data[99]!, (100 - 1.99) / scale, 1e-6), `max -> ${norm.data[99]}`);
  assert.ok(norm.data[99]! > 1);
  const [p1, p98] = percentiles(norm.data, [1, 98]) as [number, number];
  assert.ok(near(p1, 0, 1e-6) && near(p98, 1, 1e-6), `normalised percentiles ${p1}, ${p98}`);
  assert.equal(image.data[0], 1, 'the input is not modified');
  // an explicit range
  const fixed = normalizeImage(image, { low: 1, high: 101 });
  assert.ok(near(fixed.data[50]!, 0.5));
  // a constant image does not divide by zero
  const flat = normalizeImage({ width: 2, height: 2, channels: 1, data: new Float32Array(4).fill(7) });
  assert.deepEqual(Array.from(flat.data), [0, 0, 0, 0]);
});

const W = 20,
  H = 12;

/**
 * Two cells side by side: interiors p = 0.9 (x 2..6 and x 9..13, y 2..7), a 2 px seam between them
 * (x 7..8) at p = 0.72, background 0.1. With 1 px dilation, separated interiors grow into exactly
 * the rectangles x 1..7 and x 8..14, y 1..8.
 */
function touchingCells(): { prob: FloatImage; outlined: LabelImage } {
  const p = new Float32Array(W * H).fill(0.1);
  for (let y = 2; y < 8; y++) {
    for (let x = 2; x < 7; x++) p[y * W + x] = 0.9;
    for (let x = 7; x < 9; x++) p[y * W + x] = 0.72;
    for (let x = 9; x < 14; x++) p[y * W + x] = 0.9;
  }
  const o = new Int32Array(W * H);
  fillRect(o, W, 1, 1, 8, 9, 1);
  fillRect(o, W, 8, 1, 15, 9, 2);
  return { prob: { width: W, height: H, data: p }, outlined: { width: W, height: H, data: o } };
}

test('probabilityToInstances on the touching cells: merged below the seam value, separated above', () => {
  const { prob, outlined } = touchingCells();
  const merged = probabilityToInstances(prob, { threshold: 0.5 });
  assert.equal(merged.count, 1);
  const split = probabilityToInstances(prob, { threshold: 0.75 });
  assert.equal(split.count, 2);
  assert.deepEqual(split.data, outlined.data, show(split.data, W));
  assert.equal(probabilityToInstances(prob, { threshold: 0.95 }).count, 0);
});

test('outlineAgreement: 1 for exact reproduction, mean best IoU otherwise', () => {
  const { prob, outlined } = touchingCells();
  assert.equal(outlineAgreement(outlined, outlined), 1);
  // merged blob x 1..14 (112 px) against two 56 px cells: IoU 0.5 each
  assert.ok(near(outlineAgreement(outlined, probabilityToInstances(prob, { threshold: 0.5 })), 0.5, 1e-12));
  assert.equal(outlineAgreement(outlined, { width: W, height: H, data: new Int32Array(W * H) }), 0);
  assert.equal(outlineAgreement({ width: W, height: H, data: new Int32Array(W * H) }, outlined), 0);
  // only cell 1 predicted exactly, cell 2 missed: (1 + 0) / 2
  assert.equal(outlineAgreement(outlined, keepLabels(outlined, [1])), 0.5);
});

test('chooseInstanceParameters (components) picks the first threshold that separates the touching cells', () => {
  const { prob, outlined } = touchingCells();
  assert.deepEqual(THRESHOLD_SWEEP, [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]);
  assert.equal(chooseThreshold([prob], [outlined]), 0.75);
  // no outlines at all: the default 0.5
  assert.equal(chooseThreshold([prob], [{ width: W, height: H, data: new Int32Array(W * H) }]), 0.5);
  // brighter cells (0.97) with a seam at 0.86: only thresholds from 0.9 separate them
  const high = {
    ...prob,
    data: prob.data.map((v) => (Math.abs(v - 0.72) < 1e-6 ? 0.86 : Math.abs(v - 0.9) < 1e-6 ? 0.97 : v)),
  };
  assert.equal(chooseThreshold([high], [outlined]), 0.9);
});

test('chooseInstanceParameters (components) sums the agreement over several images', () => {
  const { prob, outlined } = touchingCells();
  // image B: seam at 0.82, separated only at 0.85 (agreement 0.5 up to 0.8, 1 at 0.85, 0 from 0.9)
  const b: FloatImage = { width: W, height: H, data: prob.data.map((v) => (Math.abs(v - 0.72) < 1e-6 ? 0.82 : v)) };
  assert.equal(chooseThreshold([b], [outlined]), 0.85);
  // image A alone: 0.75; together the sums are 1.5 at 0.75 and 0.8, 2 at 0.85
  assert.equal(chooseThreshold([prob, b], [outlined, outlined]), 0.85);
});

test('scoreThresholds scores every threshold of the sweep against ground truth', () => {
  const { prob, outlined } = touchingCells();
  const scores = scoreThresholds([prob], [outlined]);
  assert.deepEqual([...scores.keys()], THRESHOLD_SWEEP);
  // 0.5 .. 0.7: one merged blob matches one cell at IoU 0.5 -> TP 1 of 2 true, 1 predicted
  for (const t of [0.5, 0.55, 0.6, 0.65, 0.7]) {
    const s = scores.get(t)!;
    assert.deepEqual([s.nTrue, s.nPred, s.truePositives], [2, 1, 1], `t = ${t}`);
    assert.ok(near(s.f1, 2 / 3, 1e-12), `t = ${t}: f1 ${s.f1}`);
  }
  for (const t of [0.75, 0.8, 0.85]) {
    const s = scores.get(t)!;
    assert.deepEqual([s.f1, s.precision, s.recall, s.meanAP], [1, 1, 1, 1], `t = ${t}`);
  }
  for (const t of [0.9, 0.95]) assert.deepEqual([scores.get(t)!.f1, scores.get(t)!.nPred], [0, 0], `t = ${t}`);
  // averaged over two images
  const two = scoreThresholds([prob, prob], [outlined, { width: W, height: H, data: new Int32Array(W * H) }], [0.8]);
  const s = two.get(0.8)!;
  assert.deepEqual([s.nTrue, s.nPred, s.truePositives], [2, 4, 2]);
  assert.equal(s.f1, (1 + 0) / 2);
});

test('keepLabels keeps only the listed ids', () => {
  const l: LabelImage = { width: 4, height: 1, data: Int32Array.from([1, 2, 3, 2]) };
  assert.deepEqual(Array.from(keepLabels(l, [2, 9]).data), [0, 2, 0, 2]);
});

test('chooseInstanceParameters (seeded) picks a seed level that splits touching cells at a low threshold', () => {
  const { prob, outlined } = touchingCells();
  const p = chooseInstanceParameters([prob], [outlined], { separation: 'seeded' });
  assert.ok(p.seedThreshold > 0.72, `seeds above the seam (${p.seedThreshold})`);
  assert.ok(p.threshold < p.seedThreshold);
  const cells = probabilityToInstances(prob, { separation: 'seeded', ...p });
  // exact but for the dilation's corner pixels where both cells meet (the larger id takes them)
  assert.ok(outlineAgreement(outlined, cells) > 0.95, 'both outlined cells reproduced');
});

test('seed size floor is a tenth of the median outlined cell', () => {
  const one = { width: 10, height: 10, data: new Int32Array(100) };
  for (let i = 0; i < 60; i++) one.data[i] = 1;
  for (let i = 60; i < 100; i++) one.data[i] = 2;
  assert.equal(seedMinSizeFor([one]), 6);
  assert.equal(seedMinSizeFor([{ width: 2, height: 1, data: new Int32Array([1, 0]) }]), 5);
});
