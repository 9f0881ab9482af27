import { distanceTransform, erodeSquare, innerOutline, labelBoxes, skeletonize } from './morphology.js';
import { Random } from './random.js';
import { fillPolygon, type Polygon } from './rasterize.js';
import { type LabelImage, SCRIBBLE_BACKGROUND, SCRIBBLE_FOREGROUND } from './types.js';

/** Scribble raster: 0 = none, SCRIBBLE_FOREGROUND, SCRIBBLE_BACKGROUND (background wins where both apply). */
export type ScribbleRaster = LabelImage;

/** Pixels of a crop that one cell contributes: foreground skeleton + inner ring, background 1 px outline. */
interface CellScribble {
  fg: Uint8Array;
  bg: Uint8Array;
}

/**
 * ImPartial's outline -> scribble rule for one whole-cell mask (a crop with >= 3 px of margin):
 * foreground = skeleton of the mask eroded by a 5x5 square plus that eroded mask's own outline
 * (a ring ~2 px inside the cell); background = the cell's 1 px inner outline, which is what
 * teaches the net to separate touching cells.
 */
export function cellScribble(mask: Uint8Array, width: number, height: number): CellScribble {
  const eroded = erodeSquare(mask, width, height, 2);
  let erodedArea = 0;
  for (const v of eroded) erodedArea += v;
  let fg: Uint8Array;
  if (erodedArea >= 3) {
    fg = skeletonize(eroded, width, height);
    const ring = innerOutline(eroded, width, height);
    for (let i = 0; i < fg.length; i++) fg[i] = fg[i] || ring[i] ? 1 : 0;
  } else {
    fg = skeletonize(mask, width, height); // too small to erode: its skeleton only
  }
  if (!fg.some((v) => v)) markCentre(mask, width, fg); // thinning erases 2 px wide cells entirely
  const bg = innerOutline(mask, width, height);
  for (let i = 0; i < fg.length; i++) if (fg[i]) bg[i] = 0;
  return { fg, bg };
}

/** Marks the mask pixel nearest the mask's centroid. */
function markCentre(mask: Uint8Array, width: number, out: Uint8Array): void {
  let sx = 0,
    sy = 0,
    n = 0;
  for (let i = 0; i < mask.length; i++)
    if (mask[i]) {
      sx += i % width;
      sy += Math.floor(i / width);
      n++;
    }
  if (n === 0) return;
  let best = -1,
    bestD = Infinity;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const d = ((i % width) - sx / n) ** 2 + (Math.floor(i / width) - sy / n) ** 2;
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  }
  out[best] = 1;
}

/** Accumulates per-cell scribbles into full-size fg/bg masks. */
class ScribbleCanvas {
  readonly fg: Uint8Array;
  readonly bg: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.fg = new Uint8Array(width * height);
    this.bg = new Uint8Array(width * height);
  }

  /** Adds the scribble of the cell whose pixels satisfy `inside(index)` within box [x0,x1) x [y0,y1). */
  addCell(x0: number, y0: number, x1: number, y1: number, inside: (index: number) => boolean): void {
    const pad = 3;
    const cx0 = Math.max(0, x0 - pad),
      cy0 = Math.max(0, y0 - pad);
    const cx1 = Math.min(this.width, x1 + pad),
      cy1 = Math.min(this.height, y1 + pad);
    const w = cx1 - cx0,
      h = cy1 - cy0;
    const mask = new Uint8Array(w * h);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) mask[y * w + x] = inside((y + cy0) * this.width + x + cx0) ? 1 : 0;
    const { fg, bg } = cellScribble(mask, w, h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = (y + cy0) * this.width + x + cx0;
        if (fg[y * w + x]) this.fg[i] = 1;
        if (bg[y * w + x]) this.bg[i] = 1;
      }
    }
  }

  toRaster(): ScribbleRaster {
    const data = new Int32Array(this.width * this.height);
    for (let i = 0; i < data.length; i++)
      data[i] = this.bg[i] ? SCRIBBLE_BACKGROUND : this.fg[i] ? SCRIBBLE_FOREGROUND : 0;
    return { width: this.width, height: this.height, data };
  }
}

export interface SynthesisOptions {
  /** Fraction of the cells that get scribbles (the paper's protocol: 0.2). */
  fraction: number;
  seed: number;
  /** Short background strokes away from cells, one per two chosen cells (the anchors' protocol). */
  backgroundStrokes?: boolean;
}

export interface SynthesisResult {
  scribbles: ScribbleRaster;
  /** Ids of the ground-truth cells that were scribbled (what a person would have outlined). */
  chosenCells: number[];
}

/**
 * Synthesises the scribbles a person would give by outlining a fraction of the cells, following
 * ../shared/anchors/README.md so comparisons with the PyTorch reference are fair.
 */
export function synthesizeScribbles(labels: LabelImage, options: SynthesisOptions): SynthesisResult {
  const { width, height, data } = labels;
  const rng = new Random(options.seed);
  let maxId = 0;
  const present = new Set<number>();
  for (const v of data)
    if (v > 0) {
      present.add(v);
      if (v > maxId) maxId = v;
    }
  const ids = [...present].sort((a, b) => a - b);
  const count = Math.max(1, Math.round(options.fraction * ids.length));
  const chosen = ids.length ? rng.permutation(ids).slice(0, count) : [];
  const boxes = labelBoxes(data, width, maxId);
  const canvas = new ScribbleCanvas(width, height);
  for (const id of chosen) {
    canvas.addCell(boxes[4 * id]!, boxes[4 * id + 1]!, boxes[4 * id + 2]!, boxes[4 * id + 3]!, (i) => data[i] === id);
  }
  if (options.backgroundStrokes ?? true)
    addBackgroundStrokes(canvas, labels, Math.max(1, Math.floor(chosen.length / 2)), rng);
  return { scribbles: canvas.toRaster(), chosenCells: chosen };
}

/** 15 px straight strokes centred >= 6 px from any cell, keeping only points >= 3 px from cells. */
function addBackgroundStrokes(canvas: ScribbleCanvas, labels: LabelImage, strokes: number, rng: Random): void {
  const { width, height, data } = labels;
  const isCell = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) isCell[i] = data[i]! > 0 ? 1 : 0;
  const dist = distanceTransform(isCell, width, height);
  const far: number[] = [];
  for (let i = 0; i < dist.length; i++) if (dist[i]! >= 6) far.push(i);
  if (far.length === 0) return;
  for (let s = 0; s < strokes; s++) {
    const centre = far[rng.int(0, far.length)]!;
    const cx = centre % width,
      cy = (centre - cx) / width;
    const angle = rng.uniform(0, Math.PI);
    for (let t = -7; t <= 7; t++) {
      const y = Math.min(height - 1, Math.max(0, Math.round(cy + t * Math.sin(angle))));
      const x = Math.min(width - 1, Math.max(0, Math.round(cx + t * Math.cos(angle))));
      if (dist[y * width + x]! >= 3) canvas.bg[y * width + x] = 1;
    }
  }
}

/** Scribbles from whole-cell outlines drawn by a person (e.g. an ImageJ ROI set). */
export function outlinesToScribbles(polygons: readonly Polygon[], width: number, height: number): ScribbleRaster {
  const canvas = new ScribbleCanvas(width, height);
  for (const polygon of polygons) {
    const inside = new Set<number>();
    fillPolygon(polygon, width, height, (i) => inside.add(i));
    if (inside.size === 0) continue;
    let x0 = width,
      y0 = height,
      x1 = 0,
      y1 = 0;
    for (const i of inside) {
      const x = i % width,
        y = (i - x) / width;
      x0 = Math.min(x0, x);
      y0 = Math.min(y0, y);
      x1 = Math.max(x1, x + 1);
      y1 = Math.max(y1, y + 1);
    }
    canvas.addCell(x0, y0, x1, y1, (i) => inside.has(i));
  }
  return canvas.toRaster();
}

/** Scribbles from an instance label image (every labelled cell counts as outlined). */
export function instancesToScribbles(labels: LabelImage): ScribbleRaster {
  const { width, data } = labels;
  let maxId = 0;
  for (const v of data) if (v > maxId) maxId = v;
  const boxes = labelBoxes(data, width, maxId);
  const canvas = new ScribbleCanvas(width, labels.height);
  for (let id = 1; id <= maxId; id++) {
    if (boxes[4 * id + 2]! < 0) continue;
    canvas.addCell(boxes[4 * id]!, boxes[4 * id + 1]!, boxes[4 * id + 2]!, boxes[4 * id + 3]!, (i) => data[i] === id);
  }
  return canvas.toRaster();
}

export function countScribbles(raster: ScribbleRaster): { foreground: number; background: number } {
  let foreground = 0,
    background = 0;
  for (const v of raster.data) {
    if (v === SCRIBBLE_FOREGROUND) foreground++;
    else if (v === SCRIBBLE_BACKGROUND) background++;
  }
  return { foreground, background };
}
