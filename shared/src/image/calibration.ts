import { probabilityToInstances, type InstanceOptions } from './instances.js';
import { matchInstances, meanScores, type MatchScores } from './metrics.js';
import type { FloatImage, LabelImage } from './types.js';

export const THRESHOLD_SWEEP = Array.from({ length: 10 }, (_, i) => Math.round((0.5 + 0.05 * i) * 100) / 100);

/** Mean best IoU of the outlined cells against the predicted instances (1 = every outline reproduced exactly). */
export function outlineAgreement(outlined: LabelImage, predicted: LabelImage): number {
  const areaO = new Map<number, number>(), areaP = new Map<number, number>(), inter = new Map<string, number>();
  for (let i = 0; i < outlined.data.length; i++) {
    const o = outlined.data[i]!, p = predicted.data[i]!;
    if (o > 0) areaO.set(o, (areaO.get(o) ?? 0) + 1);
    if (p > 0) areaP.set(p, (areaP.get(p) ?? 0) + 1);
    if (o > 0 && p > 0) inter.set(`${o},${p}`, (inter.get(`${o},${p}`) ?? 0) + 1);
  }
  const best = new Map<number, number>();
  for (const [key, n] of inter) {
    const [o, p] = key.split(',').map(Number) as [number, number];
    const iou = n / (areaO.get(o)! + areaP.get(p)! - n);
    if (iou > (best.get(o) ?? 0)) best.set(o, iou);
  }
  if (areaO.size === 0) return 0;
  let s = 0;
  for (const o of areaO.keys()) s += best.get(o) ?? 0;
  return s / areaO.size;
}

/**
 * The engine's own threshold, chosen without ground truth: the one whose instances best reproduce
 * the cells the person outlined (the same outlines the scribbles came from). 0.5 when none.
 */
export function chooseThreshold(predictions: readonly FloatImage[], outlined: readonly LabelImage[], options: Partial<InstanceOptions> = {}, sweep = THRESHOLD_SWEEP): number {
  let bestT = 0.5, bestScore = -1;
  if (!outlined.some((o) => o.data.some((v) => v > 0))) return bestT;
  for (const t of sweep) {
    const score = predictions.reduce((s, p, k) => s + outlineAgreement(outlined[k]!, probabilityToInstances(p, { ...options, threshold: t })), 0);
    if (score > bestScore + 1e-9) { bestScore = score; bestT = t; }
  }
  return bestT;
}

/** Scores at each threshold of a sweep against ground truth (averaged over images). */
export function scoreThresholds(predictions: readonly FloatImage[], truth: readonly LabelImage[], sweep = THRESHOLD_SWEEP, options: Partial<InstanceOptions> = {}): Map<number, MatchScores> {
  const out = new Map<number, MatchScores>();
  for (const t of sweep) out.set(t, meanScores(predictions.map((p, k) => matchInstances(truth[k]!, probabilityToInstances(p, { ...options, threshold: t })))));
  return out;
}

/** Keeps only the given label ids (e.g. the cells a person outlined). */
export function keepLabels(labels: LabelImage, ids: Iterable<number>): LabelImage {
  const keep = new Set(ids);
  return { width: labels.width, height: labels.height, data: labels.data.map((v) => (keep.has(v) ? v : 0)) };
}
