import type { LabelImage } from './types.js';

/** A closed polygon in pixel-corner coordinates (x right, y down): the edge of pixel (0,0) runs from 0 to 1. */
export type Polygon = ReadonlyArray<readonly [number, number]>;

/**
 * Fills a polygon: pixel (x, y) is inside when its centre (x + 0.5, y + 0.5) is inside (even-odd rule).
 * Calls `visit(index)` for every covered pixel of the width x height raster.
 */
export function fillPolygon(polygon: Polygon, width: number, height: number, visit: (index: number) => void): void {
  const n = polygon.length;
  if (n < 3) return;
  let minY = Infinity,
    maxY = -Infinity;
  for (const [, y] of polygon) {
    minY = Math.min(minY, y);
    maxY = Math.max(maxY, y);
  }
  const y0 = Math.max(0, Math.floor(minY - 0.5)),
    y1 = Math.min(height - 1, Math.ceil(maxY - 0.5));
  const xs: number[] = [];
  for (let y = y0; y <= y1; y++) {
    const yc = y + 0.5;
    xs.length = 0;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const [xi, yi] = polygon[i]!,
        [xj, yj] = polygon[j]!;
      if (yi > yc !== yj > yc) xs.push(xi + ((yc - yi) / (yj - yi)) * (xj - xi));
    }
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      // centres x + 0.5 in [xs[k], xs[k+1])
      const from = Math.max(0, Math.ceil(xs[k]! - 0.5)),
        to = Math.min(width - 1, Math.ceil(xs[k + 1]! - 0.5) - 1);
      for (let x = from; x <= to; x++) visit(y * width + x);
    }
  }
}

/**
 * Rasterises polygons into instance labels 1..n in order; a later polygon never overwrites an
 * earlier one. Empty polygons get no id.
 */
export function polygonsToLabels(polygons: readonly Polygon[], width: number, height: number): LabelImage {
  const data = new Int32Array(width * height);
  let id = 0;
  for (const polygon of polygons) {
    const pixels: number[] = [];
    fillPolygon(polygon, width, height, (i) => pixels.push(i));
    if (pixels.length === 0) continue;
    id++;
    for (const i of pixels) if (data[i] === 0) data[i] = id;
  }
  return { width, height, data };
}
