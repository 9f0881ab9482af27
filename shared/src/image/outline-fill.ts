import { connectedComponents } from './morphology.js';
import { type LabelImage, SCRIBBLE_BACKGROUND, SCRIBBLE_FOREGROUND } from './types.js';

export interface OutlineFillOptions {
  /** Enclosed regions larger than this many pixels are left alone (not one cell). */
  maxArea: number;
  /** Share of a region's pixels that must be cell strokes (an outlined cell's skeleton and ring: 10-35%). */
  minCellShare: number;
  /**
   * Also mark the unscribbled pixels just outside a completed cell's outline as background: there the
   * outline meets either background or the edge of a touching neighbour, whose own 1 px outline is
   * background by the same rule. Touching cells then train with the 2 px gap their outlines imply.
   */
  outerRing: boolean;
}

export const DEFAULT_OUTLINE_FILL: OutlineFillOptions = { maxArea: 4096, minCellShare: 0.08, outerRing: false };

/**
 * Completes outlined cells: a region closed off by background strokes (a cell's outline) that holds
 * enough cell strokes is cell everywhere inside, so training sees the whole cell up to its outline
 * instead of its skeleton and ring alone. Regions that touch the raster's edge may be open and stay
 * as drawn; so do large ones (a loop around several cells) and ones with few cell strokes.
 */
export function fillOutlinedCells(scribbles: LabelImage, options: Partial<OutlineFillOptions> = {}): LabelImage {
  const { regions, completed } = completedRegions(scribbles, options);
  const out = new Int32Array(scribbles.data);
  for (let i = 0; i < out.length; i++) {
    const r = regions.labels[i]!;
    if (r && !out[i] && completed[r]) out[i] = SCRIBBLE_FOREGROUND;
  }
  const filled = { width: scribbles.width, height: scribbles.height, data: out };
  if (!{ ...DEFAULT_OUTLINE_FILL, ...options }.outerRing) return filled;
  const cells = labelCells(scribbles, regions, completed);
  const { width, height } = scribbles;
  for (let i = 0; i < out.length; i++) {
    if (out[i] || cells.data[i]) continue;
    const x = i % width,
      y = (i - x) / width;
    const touches =
      (x > 0 && cells.data[i - 1]) ||
      (x < width - 1 && cells.data[i + 1]) ||
      (y > 0 && cells.data[i - width]) ||
      (y < height - 1 && cells.data[i + width]);
    if (touches) out[i] = SCRIBBLE_BACKGROUND;
  }
  return filled;
}

/**
 * The cells a person outlined, one label each: the regions fillOutlinedCells completes, with their
 * 1 px outline (the strokes drawn on the cell's edge), so they compare with cut instances, which
 * are dilated by 1 px. Where two outlines share a pixel, the cell labelled first keeps it.
 */
export function outlinedCells(scribbles: LabelImage, options: Partial<OutlineFillOptions> = {}): LabelImage {
  const { regions, completed } = completedRegions(scribbles, options);
  return labelCells(scribbles, regions, completed);
}

/** One label per completed region, its outline included (see outlinedCells). */
function labelCells(scribbles: LabelImage, regions: { labels: Int32Array }, completed: Uint8Array): LabelImage {
  const { width, height, data } = scribbles;
  const ids = new Int32Array(completed.length);
  let next = 0;
  for (let r = 1; r < completed.length; r++) if (completed[r]) ids[r] = ++next;
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = ids[regions.labels[i]!]!;
  const inside = Int32Array.from(out);
  for (let i = 0; i < data.length; i++) {
    if (data[i] !== SCRIBBLE_BACKGROUND) continue;
    const x = i % width,
      y = (i - x) / width;
    // 8-connected: an outline's corner pixels touch the cell only diagonally.
    for (let dy = -1; dy <= 1 && !out[i]; dy++)
      for (let dx = -1; dx <= 1 && !out[i]; dx++) {
        const nx = x + dx,
          ny = y + dy;
        if (nx >= 0 && ny >= 0 && nx < width && ny < height) out[i] = inside[ny * width + nx]!;
      }
  }
  return { width, height, data: out };
}

/** Regions closed off by background strokes, and which of them are outlined cells (see fillOutlinedCells). */
function completedRegions(
  scribbles: LabelImage,
  options: Partial<OutlineFillOptions>,
): { regions: { labels: Int32Array; count: number }; completed: Uint8Array } {
  const o = { ...DEFAULT_OUTLINE_FILL, ...options };
  const { width, height, data } = scribbles;
  const open = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) open[i] = data[i] === SCRIBBLE_BACKGROUND ? 0 : 1;
  const regions = connectedComponents(open, width, height);
  const area = new Int32Array(regions.count + 1),
    cell = new Int32Array(regions.count + 1),
    atEdge = new Uint8Array(regions.count + 1);
  for (let i = 0; i < data.length; i++) {
    const r = regions.labels[i]!;
    if (!r) continue;
    area[r]!++;
    if (data[i] === SCRIBBLE_FOREGROUND) cell[r]!++;
    const x = i % width,
      y = (i - x) / width;
    if (x === 0 || y === 0 || x === width - 1 || y === height - 1) atEdge[r] = 1;
  }
  const completed = new Uint8Array(regions.count + 1);
  for (let r = 1; r <= regions.count; r++)
    completed[r] = !atEdge[r] && area[r]! <= o.maxArea && cell[r]! >= o.minCellShare * area[r]! ? 1 : 0;
  return { regions, completed };
}
