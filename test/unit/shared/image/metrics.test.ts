// Tests of shared/src/image/metrics.ts: instance matching and average precision (matchInstances, meanScores).
import assert from 'node:assert/strict';
import test from 'node:test';
import { AP_THRESHOLDS, type LabelImage, type MatchScores, matchInstances, meanScores } from '@impartial/shared';
import { fillRect, grid } from '../../../helpers/grid.js';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-9, `${what}: got ${a}, want ${b}`);

function expectScores(s: MatchScores, want: Partial<MatchScores>): void {
  for (const [k, v] of Object.entries(want) as Array<[keyof MatchScores, number]>) close(s[k], v, k);
}

function blank(width: number, height: number): LabelImage & { data: Int32Array } {
  return { width, height, data: new Int32Array(width * height) };
}

test('AP thresholds are 0.50, 0.55, ..., 0.95', () => {
  assert.equal(AP_THRESHOLDS.length, 10);
  AP_THRESHOLDS.forEach((t, i) => {
    close(t, 0.5 + 0.05 * i, `threshold ${i}`);
  });
});

test('identical labels (any ids) score 1 everywhere', () => {
  const truth = grid(`
    11..22
    11..22
    ......
    .3333.`);
  const pred = grid(`
    55..99
    55..99
    ......
    .7777.`);
  expectScores(matchInstances(truth, truth), {
    nTrue: 3,
    nPred: 3,
    truePositives: 3,
    precision: 1,
    recall: 1,
    f1: 1,
    meanAP: 1,
  });
  expectScores(matchInstances(truth, pred), {
    nTrue: 3,
    nPred: 3,
    truePositives: 3,
    precision: 1,
    recall: 1,
    f1: 1,
    meanAP: 1,
  });
});

test('one cell split in two: the larger half matches (IoU 12/21), the smaller is a false positive', () => {
  const truth = blank(9, 5),
    pred = blank(9, 5);
  fillRect(truth.data, 9, 1, 1, 8, 4, 1); // 7 x 3 = 21 px
  fillRect(pred.data, 9, 1, 1, 5, 4, 1); // 4 x 3 = 12 px  -> IoU 12/21 = 0.571
  fillRect(pred.data, 9, 5, 1, 8, 4, 2); // 3 x 3 = 9 px   -> IoU 9/21 = 0.429
  const s = matchInstances(truth, pred);
  // TP 1, FP 1, FN 0; AP at 0.50 and 0.55: 1/(1+1+0) = 0.5, at 0.60..0.95: 0 -> mean 0.1
  expectScores(s, { nTrue: 1, nPred: 2, truePositives: 1, precision: 0.5, recall: 1, f1: 2 / 3, meanAP: 0.1 });
});

test('IoU exactly 0.5 counts as a match (>= 0.5)', () => {
  const truth = blank(6, 4),
    pred = blank(6, 4);
  fillRect(truth.data, 6, 1, 0, 5, 4, 1); // 16 px
  fillRect(pred.data, 6, 1, 0, 3, 4, 1); // 8 px inside -> IoU 0.5
  const s = matchInstances(truth, pred);
  expectScores(s, { truePositives: 1, precision: 1, recall: 1, f1: 1, meanAP: 0.1 });
});

test('a prediction around the cell: IoU 100/196 matches, IoU 100/204 does not', () => {
  const truth = blank(20, 20);
  fillRect(truth.data, 20, 2, 2, 12, 12, 1); // 10 x 10 = 100 px
  const above = blank(20, 20);
  fillRect(above.data, 20, 0, 0, 14, 14, 4); // 196 px containing the cell: IoU 0.5102
  expectScores(matchInstances(truth, above), {
    nTrue: 1,
    nPred: 1,
    truePositives: 1,
    precision: 1,
    recall: 1,
    f1: 1,
    meanAP: 0.1,
  });
  const below = blank(20, 20);
  fillRect(below.data, 20, 0, 0, 12, 17, 4); // 204 px containing the cell: IoU 0.4902
  expectScores(matchInstances(truth, below), {
    nTrue: 1,
    nPred: 1,
    truePositives: 0,
    precision: 0,
    recall: 0,
    f1: 0,
    meanAP: 0,
  });
});

test('a shifted cell: shift 3 (IoU 70/130) matches, shift 4 (IoU 60/140) does not', () => {
  const truth = blank(20, 12);
  fillRect(truth.data, 20, 0, 1, 10, 11, 1);
  const shift3 = blank(20, 12),
    shift4 = blank(20, 12);
  fillRect(shift3.data, 20, 3, 1, 13, 11, 1);
  fillRect(shift4.data, 20, 4, 1, 14, 11, 1);
  // IoU 0.538: matched at 0.50 only -> meanAP = 0.1
  expectScores(matchInstances(truth, shift3), { truePositives: 1, f1: 1, meanAP: 0.1 });
  expectScores(matchInstances(truth, shift4), { truePositives: 0, f1: 0, meanAP: 0 });
});

test('mixed image: 3 true cells, one exact, one at IoU 0.8, one missed, plus one false positive', () => {
  const truth = blank(30, 10),
    pred = blank(30, 10);
  fillRect(truth.data, 30, 0, 0, 5, 5, 1); // 25 px
  fillRect(pred.data, 30, 0, 0, 5, 5, 1); // exact: IoU 1
  fillRect(truth.data, 30, 10, 0, 15, 5, 2); // 25 px
  fillRect(pred.data, 30, 10, 0, 15, 4, 2); // 20 px inside: IoU 0.8
  fillRect(truth.data, 30, 20, 0, 25, 5, 3); // missed
  fillRect(pred.data, 30, 0, 7, 4, 10, 3); // false positive
  const s = matchInstances(truth, pred);
  // TP 2 of 3 true, 3 predicted; AP: thresholds 0.50..0.80 (7 of them): 2/(3+3-2) = 0.5; 0.85..0.95: 1/5 = 0.2
  expectScores(s, {
    nTrue: 3,
    nPred: 3,
    truePositives: 2,
    precision: 2 / 3,
    recall: 2 / 3,
    f1: 2 / 3,
    meanAP: (7 * 0.5 + 3 * 0.2) / 10,
  });
});

test('two true cells merged into one prediction: one of them matches at IoU 0.5', () => {
  const truth = blank(10, 4),
    pred = blank(10, 4);
  fillRect(truth.data, 10, 1, 0, 5, 4, 1);
  fillRect(truth.data, 10, 5, 0, 9, 4, 2);
  fillRect(pred.data, 10, 1, 0, 9, 4, 1);
  expectScores(matchInstances(truth, pred), {
    nTrue: 2,
    nPred: 1,
    truePositives: 1,
    precision: 1,
    recall: 0.5,
    f1: 2 / 3,
  });
});

test('an empty prediction scores 0; both empty scores f1 = meanAP = 1', () => {
  const truth = grid(`
    11..2
    11..2`);
  const none = blank(truth.width, truth.height);
  expectScores(matchInstances(truth, none), {
    nTrue: 2,
    nPred: 0,
    truePositives: 0,
    precision: 0,
    recall: 0,
    f1: 0,
    meanAP: 0,
  });
  expectScores(matchInstances(none, truth), {
    nTrue: 0,
    nPred: 2,
    truePositives: 0,
    precision: 0,
    recall: 0,
    f1: 0,
    meanAP: 0,
  });
  const both = matchInstances(none, none);
  expectScores(both, { nTrue: 0, nPred: 0, truePositives: 0, f1: 1, meanAP: 1 });
});

test('matchInstances rejects label images of different sizes', () => {
  assert.throws(() => matchInstances(blank(4, 4), blank(4, 5)), /differ in size: 4x4 vs 4x5/);
});

test('meanScores averages the rates and sums the counts', () => {
  const a: MatchScores = { nTrue: 4, nPred: 2, truePositives: 2, precision: 1, recall: 0.5, f1: 2 / 3, meanAP: 0.3 };
  const b: MatchScores = { nTrue: 1, nPred: 3, truePositives: 1, precision: 1 / 3, recall: 1, f1: 0.5, meanAP: 0.1 };
  const m = meanScores([a, b]);
  expectScores(m, {
    nTrue: 5,
    nPred: 5,
    truePositives: 3,
    precision: 2 / 3,
    recall: 0.75,
    f1: (2 / 3 + 0.5) / 2,
    meanAP: 0.2,
  });
  expectScores(meanScores([a]), a);
  expectScores(meanScores([]), { nTrue: 0, nPred: 0, truePositives: 0, precision: 0, recall: 0, f1: 0, meanAP: 0 });
});
