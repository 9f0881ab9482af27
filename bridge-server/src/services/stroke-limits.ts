import {
  type Drawing,
  MAX_OUTLINE_PIXELS,
  MAX_OUTLINES,
  MAX_OUTLINES_PIXELS,
  MAX_STROKE_PIXELS,
  type Polygon,
  strokeArea,
} from '@impartial/shared';
import { tooLarge } from '../errors.js';

/*
 * What one request may ask the bridge to paint or convert: caps checked before anything is
 * stored, each named in its refusal. A person's stroke or cell outline is far below them.
 */

/** Refuses a stroke that could paint more than MAX_STROKE_PIXELS. */
export function checkStroke(drawing: Drawing): void {
  const area = Math.round(strokeArea(drawing.points, drawing.width));
  if (area > MAX_STROKE_PIXELS) {
    throw tooLarge(
      `a stroke may cover at most ${MAX_STROKE_PIXELS} pixels; this one (${drawing.points.length} points, ` +
        `width ${drawing.width}) covers up to ${area}`,
    );
  }
}

/** A loop, not Math.max(...xs): an outline of a few hundred thousand points would overflow the stack. */
function boxArea(outline: Polygon): number {
  let x0 = Infinity,
    y0 = Infinity,
    x1 = -Infinity,
    y1 = -Infinity;
  for (const [x, y] of outline) {
    x0 = Math.min(x0, x);
    x1 = Math.max(x1, x);
    y0 = Math.min(y0, y);
    y1 = Math.max(y1, y);
  }
  const area = (x1 - x0 + 1) * (y1 - y0 + 1);
  if (outline.length === 0) return 0;
  return Number.isNaN(area) ? Infinity : area; // a NaN coordinate is no bound at all
}

/** Refuses outlines over a cap (count, one outline's area, all outlines' area), naming the cap met. */
export function checkOutlines(outlines: readonly Polygon[]): void {
  if (outlines.length > MAX_OUTLINES) {
    throw tooLarge(`at most ${MAX_OUTLINES} outlines a request; got ${outlines.length}`);
  }
  let total = 0;
  for (const [k, outline] of outlines.entries()) {
    const area = boxArea(outline);
    if (area > MAX_OUTLINE_PIXELS) {
      throw tooLarge(
        `outline ${k + 1} spans ${Math.round(area)} pixels; one outline may span at most ${MAX_OUTLINE_PIXELS} ` +
          '(outlines are cells; mark large regions with strokes)',
      );
    }
    total += area;
  }
  if (total > MAX_OUTLINES_PIXELS) {
    throw tooLarge(`the outlines span ${Math.round(total)} pixels together; at most ${MAX_OUTLINES_PIXELS} a request`);
  }
}
