/** A point in level-0 image pixels. */
export type ImagePoint = [number, number];

// Closer points than this (image pixels) add nothing to an outline.
const MIN_STEP = 0.5;
/** A press that moves less than this many screen pixels is a click (a polygon corner), not a lasso. */
export const CLICK_PIXELS = 4;
/** A click this close to the first corner (screen pixels) closes the polygon. */
export const CLOSE_PIXELS = 8;

const distance = (a: ImagePoint, b: ImagePoint) => Math.hypot(a[0] - b[0], a[1] - b[1]);

function pathLength(points: readonly ImagePoint[]): number {
  let length = 0;
  for (let i = 1; i < points.length; i++) length += distance(points[i - 1]!, points[i]!);
  return length;
}

/** Shoelace area in image pixels (either orientation). */
export function polygonArea(points: readonly ImagePoint[]): number {
  let twice = 0;
  for (let i = 0; i < points.length; i++) {
    const [x0, y0] = points[i]!;
    const [x1, y1] = points[(i + 1) % points.length]!;
    twice += x0 * y1 - x1 * y0;
  }
  return Math.abs(twice) / 2;
}

/**
 * The corners of a closed outline as sent: repeated points (a double click, a lasso that ends where
 * it began) dropped; null when fewer than 3 corners or less than one pixel of area remain.
 */
export function closedOutline(points: readonly ImagePoint[]): ImagePoint[] | null {
  const out: ImagePoint[] = [];
  for (const p of points) if (!out.length || distance(out.at(-1)!, p) >= MIN_STEP) out.push(p);
  while (out.length > 1 && distance(out[0]!, out.at(-1)!) < MIN_STEP) out.pop();
  return out.length >= 3 && polygonArea(out) >= 1 ? out : null;
}

/**
 * The outline tool's gestures, in image pixels: a press dragged around a cell is a lasso, finished
 * on release; clicks place polygon corners, closed by a click on the first corner, a double click
 * or `close()` (Enter). `scale` is screen pixels per image pixel, for the click tolerances.
 */
export class OutlineShape {
  private path: ImagePoint[] | null = null;
  private corners: ImagePoint[] | null = null;
  private hover: ImagePoint | null = null;

  /** What to show now (the lasso so far, or the corners and the pointer), closed back to the start; null if nothing. */
  get shown(): ImagePoint[] | null {
    const open = this.corners ? [...this.corners, ...(this.hover ? [this.hover] : [])] : this.path;
    return open?.length ? [...open, open[0]!] : null;
  }

  /** Whether a polygon is being placed (keys then act on it). */
  get placing(): boolean {
    return this.corners !== null;
  }

  down(p: ImagePoint): void {
    this.path = [p];
  }

  move(p: ImagePoint): void {
    this.hover = p;
    if (this.path && distance(this.path.at(-1)!, p) >= MIN_STEP) this.path.push(p);
  }

  /** The release of a press: a finished outline, or null while one is still being drawn (or was too small). */
  up(p: ImagePoint, scale: number): ImagePoint[] | null {
    const path = this.path;
    this.path = null;
    if (!path) return null;
    path.push(p);
    const click = pathLength(path) * scale < CLICK_PIXELS;
    if (!this.corners && !click) return this.finish(path);
    const corners = this.corners ?? [];
    if (corners.length >= 3 && distance(corners[0]!, path[0]!) * scale <= CLOSE_PIXELS) return this.finish(corners);
    this.corners = [...corners, path[0]!];
    return null;
  }

  /** Closes the polygon being placed (Enter, a double click). */
  close(): ImagePoint[] | null {
    return this.corners ? this.finish(this.corners) : null;
  }

  /** Takes back the last corner placed (Backspace); the last one taken back ends the polygon. */
  removeLast(): void {
    if (!this.corners) return;
    this.corners = this.corners.slice(0, -1);
    if (!this.corners.length) this.corners = null;
  }

  cancel(): void {
    this.path = this.corners = this.hover = null;
  }

  private finish(points: readonly ImagePoint[]): ImagePoint[] | null {
    this.cancel();
    return closedOutline(points);
  }
}
