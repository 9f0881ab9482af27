import type { LabelImage } from './types.js';

/** A box [x0, y0, x1, y1): x0 and y0 included, x1 and y1 not. */
export type Box = [number, number, number, number];

/** [x0, y0, x1, y1) around every labelled pixel, widened by `margin` within the image; null when none is labelled. */
export function labelledBox(labels: LabelImage, margin = 0): Box | null {
  const { width, height, data } = labels;
  let x0 = width,
    y0 = height,
    x1 = -1,
    y1 = -1;
  for (let i = 0; i < data.length; i++) {
    if (!data[i]) continue;
    const x = i % width,
      y = (i - x) / width;
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
  }
  if (x1 < 0) return null;
  return [
    Math.max(0, x0 - margin),
    Math.max(0, y0 - margin),
    Math.min(width, x1 + 1 + margin),
    Math.min(height, y1 + 1 + margin),
  ];
}

/**
 * An image cut to a box: one plane (labels, probabilities) or, for a multi-channel image, each of
 * its channel planes (channel-major, as MultiChannelImage keeps them).
 */
export function cropImage<
  T extends { width: number; height: number; data: Float32Array | Int32Array; channels?: number },
>(image: T, [x0, y0, x1, y1]: Box): T {
  const { width, height } = image;
  const w = x1 - x0,
    h = y1 - y0,
    planes = image.channels ?? 1;
  const data = new (image.data.constructor as new (n: number) => T['data'])(w * h * planes);
  for (let c = 0; c < planes; c++)
    for (let y = 0; y < h; y++) {
      const from = c * width * height + (y + y0) * width + x0;
      data.set(image.data.subarray(from, from + w), c * w * h + y * w);
    }
  return { ...image, width: w, height: h, data };
}
