// Two cells joined by a seam of lower probability, with the outlines that separate them, for the
// calibration and instance tests.
import type { FloatImage, LabelImage } from '@impartial/shared';
import { fillRect } from './grid.js';

export const SEAM_W = 20,
  SEAM_H = 12;
const W = SEAM_W,
  H = SEAM_H;

/**
 * Two cells side by side: interiors p = 0.9 (x 2..6 and x 9..13, y 2..7), a 2 px seam between them
 * (x 7..8) at p = 0.72, background 0.1. With 1 px dilation, separated interiors grow into exactly
 * the rectangles x 1..7 and x 8..14, y 1..8.
 */
export function seamCells(): { prob: FloatImage; outlined: LabelImage } {
  const p = new Float32Array(W * H).fill(0.1);
  for (let y = 2; y < 8; y++) {
    for (let x = 2; x < 7; x++) p[y * W + x] = 0.9;
    for (let x = 7; x < 9; x++) p[y * W + x] = 0.72;
    for (let x = 9; x < 14; x++) p[y * W + x] = 0.9;
  }
  const o = new Int32Array(W * H);
  fillRect(o, W, 1, 1, 8, 9, 1);
  fillRect(o, W, 8, 1, 15, 9, 2);
  return { prob: { width: W, height: H, data: p }, outlined: { width: W, height: H, data: o } };
}
