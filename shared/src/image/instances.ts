import { connectedComponents, dilateIntoBackground, removeSmallObjects } from './morphology.js';
import type { FloatImage, LabelImage } from './types.js';

export interface InstanceOptions {
  threshold: number;
  /** Objects smaller than this many pixels are dropped (ImPartial: 5). */
  minSize: number;
  /** 1 px dilations into background after labelling (ImPartial: 1). */
  dilation: number;
}

export const DEFAULT_INSTANCE_OPTIONS: InstanceOptions = { threshold: 0.5, minSize: 5, dilation: 1 };

/** Foreground probability -> instances: threshold, 4-connected components, small-object removal, dilation into background. */
export function probabilityToInstances(probability: FloatImage, options: Partial<InstanceOptions> = {}): LabelImage & { count: number } {
  const o = { ...DEFAULT_INSTANCE_OPTIONS, ...options };
  const { width, height, data } = probability;
  const mask = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) mask[i] = data[i]! > o.threshold ? 1 : 0;
  const components = connectedComponents(mask, width, height);
  let { labels, count } = removeSmallObjects(components.labels, o.minSize);
  for (let k = 0; k < o.dilation; k++) labels = dilateIntoBackground(labels, width, height);
  return { width, height, data: labels, count };
}
