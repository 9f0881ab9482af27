// Tests of shared/src/image/calibration.ts: choosing and scoring the instance parameters, keepLabels, seed size floor.
import assert from 'node:assert/strict';
import test from 'node:test';
import {
  chooseInstanceParameters,
  type FloatImage,
  keepLabels,
  type LabelImage,
  outlineAgreement,
  outlineF1,
  probabilityToInstances,
  scoreThresholds,
  seedMinSizeFor,
  THRESHOLD_SWEEP,
} from '@impartial/shared';
import { near } from '../../../helpers/numbers.js';
import { SEAM_H as H, seamCells, SEAM_W as W } from '../../../helpers/seam-cells.js';

/** The threshold the engine picks with plain connected components. */
const chooseThreshold = (p: FloatImage[], o: LabelImage[]) =>
  chooseInstanceParameters(p, o, { separation: 'components' }).threshold;

test('outlineAgreement: 1 for exact reproduction, mean best IoU otherwise', () => {
  const { prob, outlined } = seamCells();
  assert.equal(outlineAgreement(outlined, outlined), 1);
  // merged blob x 1..14 (112 px) against two 56 px cells: IoU 0.5 each
  assert.ok(near(outlineAgreement(outlined, probabilityToInstances(prob, { threshold: 0.5 })), 0.5, 1e-12));
  assert.equal(outlineAgreement(outlined, { width: W, height: H, data: new Int32Array(W * H) }), 0);
  assert.equal(outlineAgreement({ width: W, height: H, data: new Int32Array(W * H) }, outlined), 0);
  // only cell 1 predicted exactly, cell 2 missed: (1 + 0) / 2
  assert.equal(outlineAgreement(outlined, keepLabels(outlined, [1])), 0.5);
});

test('outlineF1: F1 at IoU 0.5 on outlined cells; fragments on them count as false positives, others not', () => {
  const { prob, outlined } = seamCells();
  const none = { width: W, height: H, data: new Int32Array(W * H) };
  assert.equal(outlineF1(outlined, outlined), 1);
  assert.equal(outlineF1(outlined, none), 0);
  assert.equal(outlineF1(none, none), 0);
  // the merged blob has IoU 0.5 with each cell: it matches one of them (2 outlined, 1 instance)
  const merged = probabilityToInstances(prob, { threshold: 0.5 });
  assert.ok(near(outlineF1(outlined, merged), (2 * 1) / (2 + 1), 1e-12));
  // cell 1 exact, cell 2 missed: 2 * 1 / (2 + 1)
  assert.ok(near(outlineF1(outlined, keepLabels(outlined, [1])), 2 / 3, 1e-12));
  // a third of cell 2 split off: the rest still matches, the third is a false positive; an instance
  // off the outlines is not counted: 2 * 2 / (2 outlined + 3 instances on them)
  const cut = Int32Array.from(outlined.data);
  let k = 0;
  for (let i = 0; i < cut.length; i++) if (cut[i] === 2 && k++ % 3 === 0) cut[i] = 7;
  cut[cut.indexOf(0)] = 9;
  assert.ok(near(outlineF1(outlined, { width: W, height: H, data: cut }), 4 / 5, 1e-12));
  // halves of a cell have IoU 0.5 each: only one of them matches
  const halves = Int32Array.from(outlined.data);
  k = 0;
  for (let i = 0; i < halves.length; i++) if (halves[i] === 2 && k++ % 2 === 0) halves[i] = 7;
  assert.ok(near(outlineF1(outlined, { width: W, height: H, data: halves }), 4 / 5, 1e-12));
});

test('chooseInstanceParameters (components) picks the first threshold that separates the touching cells', () => {
  const { prob, outlined } = seamCells();
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
  const { prob, outlined } = seamCells();
  // image B: seam at 0.82, separated only at 0.85 (agreement 0.5 up to 0.8, 1 at 0.85, 0 from 0.9)
  const b: FloatImage = { width: W, height: H, data: prob.data.map((v) => (Math.abs(v - 0.72) < 1e-6 ? 0.82 : v)) };
  assert.equal(chooseThreshold([b], [outlined]), 0.85);
  // image A alone: 0.75; together the sums are 1.5 at 0.75 and 0.8, 2 at 0.85
  assert.equal(chooseThreshold([prob, b], [outlined, outlined]), 0.85);
});

test('scoreThresholds scores every threshold of the sweep against ground truth', () => {
  const { prob, outlined } = seamCells();
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
  const { prob, outlined } = seamCells();
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
