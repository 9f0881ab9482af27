import type { MultiChannelImage } from './types.js';

/** Above this many values, percentiles are estimated from an evenly strided sample (whole slides). */
const EXACT_PERCENTILE_LIMIT = 1 << 24;

/** numpy-style percentile (linear interpolation) of the given values. */
export function percentiles(values: ArrayLike<number>, ps: readonly number[]): number[] {
  const n = values.length;
  if (n === 0) throw new Error('percentiles of an empty array');
  const step = n > EXACT_PERCENTILE_LIMIT ? Math.ceil(n / EXACT_PERCENTILE_LIMIT) : 1;
  const m = Math.ceil(n / step);
  const sorted = new Float32Array(m);
  let k = 0;
  for (let i = 0; i < n; i += step) {
    const v = values[i]!;
    sorted[k++] = Number.isFinite(v) ? v : 0;
  }
  sorted.sort();
  return ps.map((p) => {
    const pos = (p / 100) * (m - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, m - 1);
    return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
  });
}

export interface NormalizationRange {
  readonly low: number;
  readonly high: number;
}

/** ImPartial's input normalisation: p1 and p98 jointly over all channels, no clipping. */
export function percentileRange(image: MultiChannelImage, low = 1, high = 98): NormalizationRange {
  const [lo, hi] = percentiles(image.data, [low, high]) as [number, number];
  return { low: lo, high: hi };
}

export function normalizeImage(image: MultiChannelImage, range = percentileRange(image)): MultiChannelImage {
  const scale = 1 / Math.max(range.high - range.low, 1e-8);
  const data = new Float32Array(image.data.length);
  for (let i = 0; i < data.length; i++) data[i] = (image.data[i]! - range.low) * scale;
  return { ...image, data };
}
