import { connectedComponents, dilateIntoBackground, distanceTransform, removeSmallObjects } from './morphology.js';
import type { FloatImage, LabelImage } from './types.js';

export interface InstanceOptions {
  threshold: number;
  /**
   * 'components': every connected region above the threshold is one cell (ImPartial).
   * 'seeded': regions above a higher seed level are cells, grown down to the threshold in order
   * of decreasing probability (a watershed on p), which splits cells joined by a low saddle.
   * 'distance': the same flood on the core map (see coreMap): seeds are the regions' cores, so
   * touching cells split at their waist even where p stays high between them.
   */
  separation: Separation;
  /**
   * 'seeded': probability a seed must exceed (used as max(seedThreshold, threshold)).
   * 'distance': core level a seed must exceed (CORE_DEPTH * seedThreshold pixels of depth times p).
   */
  seedThreshold: number;
  /** 'seeded' and 'distance': seeds smaller than this many pixels are ignored (noise, not cells). */
  seedMinSize: number;
  /** Objects smaller than this many pixels are dropped (ImPartial: 5). */
  minSize: number;
  /** 1 px dilations into background after labelling (ImPartial: 1). */
  dilation: number;
}

export type Separation = 'components' | 'seeded' | 'distance';
export const SEPARATIONS: readonly Separation[] = ['components', 'seeded', 'distance'];

export const DEFAULT_INSTANCE_OPTIONS: InstanceOptions = {
  threshold: 0.5,
  separation: 'components',
  seedThreshold: 0.65,
  seedMinSize: 15,
  minSize: 5,
  dilation: 1,
};

/**
 * Foreground probability -> instances: threshold, 4-connected components, small-object removal,
 * dilation into background.
 */
export function probabilityToInstances(
  probability: FloatImage,
  options: Partial<InstanceOptions> = {},
): LabelImage & { count: number } {
  const o = { ...DEFAULT_INSTANCE_OPTIONS, ...options };
  const { width, height, data } = probability;
  const mask = foregroundMask(data, o.threshold);
  const components =
    o.separation === 'seeded'
      ? seededRegions(probability, mask, Math.max(o.seedThreshold, o.threshold), o.seedMinSize)
      : o.separation === 'distance'
        ? seededRegions(coreMap(probability, mask), mask, o.seedThreshold, o.seedMinSize)
        : connectedComponents(mask, width, height);
  let { labels, count } = removeSmallObjects(components.labels, o.minSize);
  for (let k = 0; k < o.dilation; k++) labels = dilateIntoBackground(labels, width, height);
  return { width, height, data: labels, count };
}

/** 1 where the probability is above the threshold: the pixels the cut counts as cell. */
export function foregroundMask(probability: Float32Array, threshold: number): Uint8Array {
  const mask = new Uint8Array(probability.length);
  for (let i = 0; i < probability.length; i++) mask[i] = probability[i]! > threshold ? 1 : 0;
  return mask;
}

/** Depth (px) at which the core map saturates: about the radius of a large cell. */
export const CORE_DEPTH = 12;

/**
 * The core map of a cut, in [0, 1]: each foreground pixel's distance to the nearest background pixel
 * (capped at CORE_DEPTH) times its probability, over CORE_DEPTH. Cells peak at their middles and dip at
 * the waist where two touch, which p alone often does not show.
 */
export function coreMap(probability: FloatImage, mask: Uint8Array): FloatImage {
  const { width, height, data } = probability;
  const outside = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) outside[i] = mask[i] ? 0 : 1;
  const depth = distanceTransform(outside, width, height);
  const core = new Float32Array(mask.length);
  for (let i = 0; i < mask.length; i++)
    if (mask[i]) core[i] = (Math.min(depth[i]!, CORE_DEPTH) * data[i]!) / CORE_DEPTH;
  return { width, height, data: core };
}

/**
 * Watershed on a map in [0, 1] (p, or the core map): seeds = components above `seedThreshold` (at
 * least minSize px), flooded over the mask by decreasing value.
 */
function seededRegions(
  probability: FloatImage,
  mask: Uint8Array,
  seedThreshold: number,
  minSize: number,
): { labels: Int32Array; count: number } {
  const { width, height, data } = probability;
  const seedMask = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) seedMask[i] = data[i]! > seedThreshold ? 1 : 0;
  const seeds = removeSmallObjects(connectedComponents(seedMask, width, height).labels, minSize);
  const labels = seeds.labels;
  let count = seeds.count;
  // Priority flood: a bucket queue over 256 probability levels, highest first, first in first out
  // within a level; a pixel joins the cell that reached it first, so fronts meet halfway on a plateau.
  const LEVELS = 256;
  const buckets: number[][] = Array.from({ length: LEVELS }, () => []);
  const level = (i: number) => Math.min(LEVELS - 1, Math.max(0, Math.floor(data[i]! * LEVELS)));
  const claimedBy = new Int32Array(mask.length);
  const claim = (j: number, label: number, maxLevel: number) => {
    if (mask[j] && !labels[j] && !claimedBy[j]) {
      claimedBy[j] = label;
      buckets[Math.min(maxLevel, level(j))]!.push(j);
    }
  };
  const neighbours = (i: number, visit: (j: number) => void) => {
    const x = i % width;
    if (x > 0) visit(i - 1);
    if (x < width - 1) visit(i + 1);
    if (i >= width) visit(i - width);
    if (i + width < mask.length) visit(i + width);
  };
  for (let i = 0; i < labels.length; i++) if (labels[i]) neighbours(i, (j) => claim(j, labels[i]!, LEVELS - 1));
  for (let b = LEVELS - 1; b >= 0; b--) {
    const bucket = buckets[b]!;
    for (let head = 0; head < bucket.length; head++) {
      const i = bucket[head]!;
      labels[i] = claimedBy[i]!;
      neighbours(i, (j) => claim(j, labels[i]!, b));
    }
  }
  // Regions above the threshold that hold no seed are cells of their own.
  const rest = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) rest[i] = mask[i] && !labels[i] ? 1 : 0;
  const extra = connectedComponents(rest, width, height);
  for (let i = 0; i < labels.length; i++) if (extra.labels[i]) labels[i] = count + extra.labels[i]!;
  count += extra.count;
  return { labels, count };
}
