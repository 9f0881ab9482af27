import type { LabelImage } from './types.js';

export interface MatchScores {
  nTrue: number;
  nPred: number;
  truePositives: number;
  precision: number;
  recall: number;
  f1: number;
  /** Mean over IoU thresholds 0.50, 0.55, ..., 0.95 of TP / (TP + FP + FN). */
  meanAP: number;
}

export const AP_THRESHOLDS = Array.from({ length: 10 }, (_, i) => 0.5 + 0.05 * i);

/**
 * Instance matching at IoU >= 0.5 (StarDist/Cellpose convention). For IoU thresholds >= 0.5 each
 * object can overlap at most one partner that much (two would each need more than half of the
 * union), so taking pairs in decreasing IoU order is the optimal one-to-one assignment.
 */
export function matchInstances(truth: LabelImage, pred: LabelImage): MatchScores {
  if (truth.width !== pred.width || truth.height !== pred.height) {
    throw new Error(`label images differ in size: ${truth.width}x${truth.height} vs ${pred.width}x${pred.height}`);
  }
  const areaT = new Map<number, number>(),
    areaP = new Map<number, number>(),
    overlap = new Map<number, number>();
  let maxP = 0;
  for (const p of pred.data) if (p > maxP) maxP = p;
  const stride = maxP + 1; // pair key t * stride + p stays exact for any realistic label count
  const key = (t: number, p: number) => t * stride + p;
  for (let i = 0; i < truth.data.length; i++) {
    const t = truth.data[i]!,
      p = pred.data[i]!;
    if (t > 0) areaT.set(t, (areaT.get(t) ?? 0) + 1);
    if (p > 0) areaP.set(p, (areaP.get(p) ?? 0) + 1);
    if (t > 0 && p > 0) overlap.set(key(t, p), (overlap.get(key(t, p)) ?? 0) + 1);
  }
  const pairs: { t: number; p: number; iou: number }[] = [];
  for (const [k, inter] of overlap) {
    const t = Math.floor(k / stride),
      p = k - t * stride;
    const iou = inter / (areaT.get(t)! + areaP.get(p)! - inter);
    if (iou >= 0.5) pairs.push({ t, p, iou });
  }
  pairs.sort((a, b) => b.iou - a.iou);
  const usedT = new Set<number>(),
    usedP = new Set<number>();
  const matched: number[] = [];
  for (const { t, p, iou } of pairs) {
    if (usedT.has(t) || usedP.has(p)) continue;
    usedT.add(t);
    usedP.add(p);
    matched.push(iou);
  }
  const nTrue = areaT.size,
    nPred = areaP.size,
    tp = matched.length;
  const ap = AP_THRESHOLDS.map((th) => {
    const m = matched.filter((iou) => iou >= th - 1e-12).length;
    const denom = nTrue + nPred - m;
    return denom > 0 ? m / denom : 1;
  });
  return {
    nTrue,
    nPred,
    truePositives: tp,
    precision: nPred ? tp / nPred : 0,
    recall: nTrue ? tp / nTrue : 0,
    f1: nTrue + nPred ? (2 * tp) / (nTrue + nPred) : 1,
    meanAP: ap.reduce((s, v) => s + v, 0) / ap.length,
  };
}

/** Mean of each score over several images (the paper averages per-image rows). */
export function meanScores(rows: readonly MatchScores[]): MatchScores {
  const mean = (f: (r: MatchScores) => number) => rows.reduce((s, r) => s + f(r), 0) / Math.max(rows.length, 1);
  return {
    nTrue: rows.reduce((s, r) => s + r.nTrue, 0),
    nPred: rows.reduce((s, r) => s + r.nPred, 0),
    truePositives: rows.reduce((s, r) => s + r.truePositives, 0),
    precision: mean((r) => r.precision),
    recall: mean((r) => r.recall),
    f1: mean((r) => r.f1),
    meanAP: mean((r) => r.meanAP),
  };
}
