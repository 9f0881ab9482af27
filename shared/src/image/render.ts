import { percentiles } from './normalize.js';
import type { FloatImage, LabelImage, MultiChannelImage } from './types.js';

const COLORS: Array<[number, number, number]> = [
  [0, 110, 255],
  [0, 255, 90],
  [255, 60, 60],
  [255, 220, 0],
  [255, 0, 255],
  [0, 255, 255],
];

/** Additive colour composite of up to six channels, each stretched between its 1st and 99.5th percentile. */
export function compositeRgb(image: MultiChannelImage): Uint8Array {
  const n = image.width * image.height;
  const acc = new Float32Array(n * 3);
  for (let c = 0; c < Math.min(image.channels, COLORS.length); c++) {
    const plane = image.data.subarray(c * n, (c + 1) * n);
    const [lo, hi] = percentiles(plane, [1, 99.5]) as [number, number];
    const scale = 1 / Math.max(hi - lo, 1e-8),
      color = COLORS[c]!;
    for (let i = 0; i < n; i++) {
      const v = Math.min(1, Math.max(0, (plane[i]! - lo) * scale));
      for (let k = 0; k < 3; k++) acc[3 * i + k] = acc[3 * i + k]! + v * color[k]!;
    }
  }
  const rgb = new Uint8Array(n * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = Math.min(255, Math.round(acc[i]!));
  return rgb;
}

/** Draws the 1 px inner outline of every labelled object in the given colour. */
export function drawOutlines(rgb: Uint8Array, labels: LabelImage, color: [number, number, number]): void {
  const { width, height, data } = labels;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x,
        k = data[i]!;
      if (!k) continue;
      const edge =
        x === 0 ||
        y === 0 ||
        x === width - 1 ||
        y === height - 1 ||
        data[i - 1] !== k ||
        data[i + 1] !== k ||
        data[i - width] !== k ||
        data[i + width] !== k;
      if (edge) rgb.set(color, 3 * i);
    }
  }
}

/** A heat map (black -> red -> yellow -> white) of values in [0, max]. */
export function heatRgb(map: FloatImage, max: number): Uint8Array {
  const rgb = new Uint8Array(map.data.length * 3);
  for (let i = 0; i < map.data.length; i++) {
    const t = Math.min(1, Math.max(0, map.data[i]! / max)) * 3;
    rgb[3 * i] = Math.round(255 * Math.min(1, t));
    rgb[3 * i + 1] = Math.round(255 * Math.min(1, Math.max(0, t - 1)));
    rgb[3 * i + 2] = Math.round(255 * Math.max(0, t - 2));
  }
  return rgb;
}

/** Places RGB panels of equal height side by side. */
export function sideBySide(
  height: number,
  panels: Array<{ width: number; rgb: Uint8Array }>,
): { width: number; rgb: Uint8Array } {
  const width = panels.reduce((s, p) => s + p.width, 0);
  const rgb = new Uint8Array(width * height * 3);
  let x0 = 0;
  for (const p of panels) {
    for (let y = 0; y < height; y++)
      rgb.set(p.rgb.subarray(y * p.width * 3, (y + 1) * p.width * 3), (y * width + x0) * 3);
    x0 += p.width;
  }
  return { width, rgb };
}
