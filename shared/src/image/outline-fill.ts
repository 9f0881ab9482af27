import { connectedComponents } from './morphology.js';
import { type LabelImage, SCRIBBLE_BACKGROUND, SCRIBBLE_FOREGROUND } from './types.js';

export interface OutlineFillOptions {
  /** Enclosed regions larger than this many pixels are left alone (not one cell). */
  maxArea: number;
  /** Share of a region's pixels that must be cell strokes (an outlined cell's skeleton and ring: 10-35%). */
  minCellShare: number;
}

export const DEFAULT_OUTLINE_FILL: OutlineFillOptions = { maxArea: 4096, minCellShare: 0.08 };

/**
 * Completes outlined cells: a region closed off by background strokes (a cell's outline) that holds
 * enough cell strokes is cell everywhere inside, so training sees the whole cell up to its outline
 * instead of its skeleton and ring alone. Regions that touch the raster's edge may be open and stay
 * as drawn; so do large ones (a loop around several cells) and ones with few cell strokes.
 */
export function fillOutlinedCells(scribbles: LabelImage, options: Partial<OutlineFillOptions> = {}): LabelImage {
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
  const filled = (r: number) => !atEdge[r] && area[r]! <= o.maxArea && cell[r]! >= o.minCellShare * area[r]!;
  const out = new Int32Array(data);
  for (let i = 0; i < data.length; i++) {
    const r = regions.labels[i]!;
    if (r && !out[i] && filled(r)) out[i] = SCRIBBLE_FOREGROUND;
  }
  return { width, height, data: out };
}
