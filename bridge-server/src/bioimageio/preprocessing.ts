import { percentiles } from '@impartial/shared';

/** The preprocessing a package declares (bioimage.io scale_range over all axes, percentiles 1 and 98, eps 1e-6). */
export const SCALE_RANGE = { axes: ['channel', 'y', 'x'], min_percentile: 1.0, max_percentile: 98.0, eps: 1e-6 };

/** Applies it: the engine's own normalisation of a whole image. */
export function scaleRange(data: Float32Array): Float32Array {
  const [lo, hi] = percentiles(data, [SCALE_RANGE.min_percentile, SCALE_RANGE.max_percentile]) as [number, number];
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = (data[i]! - lo) / (hi - lo + SCALE_RANGE.eps);
  return out;
}
