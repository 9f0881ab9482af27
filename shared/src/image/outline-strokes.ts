import { fillPolygon, type Polygon } from './rasterize.js';
import { outlinesToScribbles } from './scribbles.js';
import { SCRIBBLE_BACKGROUND, SCRIBBLE_FOREGROUND } from './types.js';

/** A stroke as the log stores it (class 1 = cell, 2 = background), in level-0 pixel coordinates. */
export interface TracedStroke {
  op: 'add';
  class: number;
  width: number;
  points: Array<[number, number]>;
}

const NEIGHBOURS: Array<[number, number]> = [
  [1, 0],
  [-1, 0],
  [0, 1],
  [0, -1],
  [1, 1],
  [-1, 1],
  [1, -1],
  [-1, -1],
];

/** Covers a set of pixels with 1-pixel polylines through their centres (axis steps preferred over diagonals). */
export function tracePixels(
  pixels: ReadonlySet<number>,
  width: number,
  x0: number,
  y0: number,
): Array<Array<[number, number]>> {
  const left = new Set(pixels);
  const inRow = (i: number, dx: number) => {
    const x = (i % width) + dx;
    return x >= 0 && x < width;
  };
  const degree = (i: number) =>
    NEIGHBOURS.reduce((n, [dx, dy]) => n + (inRow(i, dx) && left.has(i + dy * width + dx) ? 1 : 0), 0);
  const paths: Array<Array<[number, number]>> = [];
  while (left.size > 0) {
    // Start at an end of a line where there is one, so a line becomes one path.
    let start = -1;
    for (const i of left) {
      if (degree(i) <= 1) {
        start = i;
        break;
      }
    }
    if (start < 0) start = left.values().next().value!;
    const path: Array<[number, number]> = [];
    let cur = start;
    for (;;) {
      left.delete(cur);
      const x = cur % width,
        y = (cur - x) / width;
      path.push([x0 + x + 0.5, y0 + y + 0.5]);
      const next = NEIGHBOURS.map(([dx, dy]) => ({ i: cur + dy * width + dx, ok: inRow(cur, dx) })).find(
        (n) => n.ok && left.has(n.i),
      );
      if (!next) break;
      cur = next.i;
    }
    paths.push(path);
  }
  return paths;
}

/**
 * Whole-cell outlines (e.g. an ImageJ ROI set drawn in Fiji) as strokes, the way ImPartial reads
 * them: the cell's skeleton and a ring just inside its border as cell strokes, the outline itself
 * as a background stroke (what separates touching cells).
 */
export function outlinesToStrokes(
  polygons: readonly Polygon[],
  imageWidth: number,
  imageHeight: number,
): TracedStroke[] {
  const strokes: TracedStroke[] = [];
  const margin = 3;
  for (const polygon of polygons) {
    const xs = polygon.map((p) => p[0]),
      ys = polygon.map((p) => p[1]);
    const x0 = Math.max(0, Math.floor(Math.min(...xs)) - margin),
      y0 = Math.max(0, Math.floor(Math.min(...ys)) - margin);
    const x1 = Math.min(imageWidth, Math.ceil(Math.max(...xs)) + margin + 1),
      y1 = Math.min(imageHeight, Math.ceil(Math.max(...ys)) + margin + 1);
    if (x1 <= x0 || y1 <= y0) continue;
    const w = x1 - x0,
      h = y1 - y0;
    const local = polygon.map(([x, y]) => [x - x0, y - y0] as [number, number]);
    let any = false;
    fillPolygon(local, w, h, () => {
      any = true;
    });
    if (!any) continue;
    const raster = outlinesToScribbles([local], w, h);
    for (const cls of [SCRIBBLE_FOREGROUND, SCRIBBLE_BACKGROUND]) {
      const pixels = new Set<number>();
      raster.data.forEach((v, i) => {
        if (v === cls) pixels.add(i);
      });
      for (const points of tracePixels(pixels, w, x0, y0)) strokes.push({ op: 'add', class: cls, width: 1, points });
    }
  }
  return strokes;
}
