/*
 * A round brush along a polyline, in level-0 pixel coordinates (pixel i covers [i, i+1), so its
 * centre is i + 0.5). The radius never drops below half a pixel diagonal, so a one-pixel stroke
 * is always a connected line.
 */

/** Called for every pixel the brush covers (level-0 coordinates). */
export type PaintTarget = (x: number, y: number) => void;

/** What painting cost: pixels whose distance to a segment was tested (at most `strokeArea`). */
export interface PaintCost {
  tested: number;
}

export type StrokePoint = readonly [number, number];

/** Squared distance from (px, py) to the segment a-b: whether a pixel is painted is decided by this alone. */
function segmentDistance2(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax,
    dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2));
  const qx = ax + t * dx - px,
    qy = ay + t * dy - py;
  return qx * qx + qy * qy;
}

export function brushRadius(width: number): number {
  return Math.max(width / 2, Math.SQRT1_2);
}

/** Level-0 bounding box of the pixels a stroke covers, [x0, y0, x1, y1) (not clipped). */
export function strokeBounds(points: readonly StrokePoint[], width: number): [number, number, number, number] {
  const r = brushRadius(width);
  let x0 = Infinity,
    y0 = Infinity,
    x1 = -Infinity,
    y1 = -Infinity;
  for (const [x, y] of points) {
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
  }
  return [Math.floor(x0 - r), Math.floor(y0 - r), Math.ceil(x1 + r) + 1, Math.ceil(y1 + r) + 1];
}

/**
 * An upper bound of the pixels a stroke paints, known before painting (to refuse strokes over a cap).
 * Every painted pixel's unit square lies within r + 1/sqrt(2) of its segment and the squares do not
 * overlap, so a segment paints at most the area of that wider capsule: length x 2r' + pi r'^2.
 * Summed over the segments (as painting visits them), one disc for a single point.
 */
export function strokeArea(points: readonly StrokePoint[], width: number): number {
  const r = brushRadius(width) + Math.SQRT1_2;
  const disc = Math.PI * r * r;
  if (points.length <= 1) return Number.isNaN(disc) ? Infinity : points.length * disc;
  let area = 0;
  for (let i = 1; i < points.length; i++) {
    const [ax, ay] = points[i - 1]!,
      [bx, by] = points[i]!;
    area += Math.hypot(bx - ax, by - ay) * 2 * r + disc;
  }
  return Number.isNaN(area) ? Infinity : area; // a NaN coordinate or width is no bound at all
}

/**
 * Below this share of the length, a segment's component counts as zero in the row intervals
 * (dividing by it would lose all precision); the interval is then widened to the whole row.
 */
const FLAT = 1e-6;

/**
 * Paints the pixels whose centre is within r of the segment a-b, row by row. The capsule is convex,
 * so each row meets it in one interval: the union of the two end discs and the band between them,
 * computed with a radius a little over r (the margin covers rounding) so that it holds every pixel
 * the exact test (segmentDistance2 <= r^2) accepts; only that test decides. The pixels tested lie
 * within r + 1/sqrt(2) of the segment, so they number at most `strokeArea` of it.
 */
function paintSegment(
  ax: number,
  ay: number,
  bx: number,
  by: number,
  r: number,
  imageWidth: number,
  imageHeight: number,
  paint: PaintTarget,
  cost: PaintCost | undefined,
): void {
  const r2 = r * r;
  const dx = bx - ax,
    dy = by - ay;
  const len = Math.hypot(dx, dy);
  // Covers rounding in the intervals and in the exact test (about 1e-16 of the coordinates' size).
  const margin = 1e-9 * (1 + r + Math.abs(ax) + Math.abs(ay) + Math.abs(bx) + Math.abs(by));
  const rr = r + margin,
    rr2 = rr * rr;
  const nx = len === 0 ? 0 : dx / len,
    ny = len === 0 ? 0 : dy / len;
  const y0 = Math.max(0, Math.floor(Math.min(ay, by) - rr - 0.5)),
    y1 = Math.min(imageHeight - 1, Math.ceil(Math.max(ay, by) + rr - 0.5));
  for (let y = y0; y <= y1; y++) {
    const py = y + 0.5;
    let lo = Infinity,
      hi = -Infinity;
    const ea = py - ay,
      eb = py - by;
    if (ea * ea <= rr2) {
      const h = Math.sqrt(rr2 - ea * ea);
      lo = ax - h;
      hi = ax + h;
    }
    if (eb * eb <= rr2) {
      const h = Math.sqrt(rr2 - eb * eb);
      lo = Math.min(lo, bx - h);
      hi = Math.max(hi, bx + h);
    }
    if (len > 0) {
      // the band: perpendicular distance <= rr (a strip) and projection within the segment (a slab)
      let bandLo = -Infinity,
        bandHi = Infinity;
      if (Math.abs(ny) > FLAT) {
        const c = ax + (ea * nx) / ny,
          w = rr / Math.abs(ny);
        bandLo = c - w;
        bandHi = c + w;
      } else if (Math.abs(ea) > rr + len * Math.abs(ny)) {
        bandHi = -Infinity; // a row beyond the strip of a (nearly) horizontal segment
      }
      if (Math.abs(nx) > FLAT) {
        const u0 = ax - (ea * ny) / nx,
          u1 = ax + (len - ea * ny) / nx;
        bandLo = Math.max(bandLo, Math.min(u0, u1));
        bandHi = Math.min(bandHi, Math.max(u0, u1));
      } else {
        // a (nearly) vertical segment: a row past its ends meets only the end discs
        const along = ea * ny,
          slack = 2 * (rr + Math.abs(ea)) * Math.abs(nx) + margin;
        if (along < -slack || along > len + slack) bandHi = -Infinity;
      }
      if (bandLo <= bandHi) {
        lo = Math.min(lo, bandLo);
        hi = Math.max(hi, bandHi);
      }
    }
    if (!(lo <= hi)) continue;
    const x0 = Math.max(0, Math.ceil(lo - 0.5)),
      x1 = Math.min(imageWidth - 1, Math.floor(hi - 0.5));
    if (cost && x1 >= x0) cost.tested += x1 - x0 + 1;
    for (let x = x0; x <= x1; x++) {
      if (segmentDistance2(x + 0.5, py, ax, ay, bx, by) <= r2) paint(x, y);
    }
  }
}

/**
 * Visits every pixel within the brush radius of the path (its centre at distance <= r from a
 * segment), clipped to [0, width) x [0, height); a pixel covered by two segments is visited twice.
 * The cost is that of the visits: about length x width + pi r^2 a segment, rows and columns
 * outside the image skipped. Coordinates are finite (the protocol caps them); a segment whose
 * extent is not (an infinite or NaN coordinate) paints nothing, as the exact test would.
 */
export function paintStroke(
  points: readonly StrokePoint[],
  width: number,
  imageWidth: number,
  imageHeight: number,
  paint: PaintTarget,
  cost?: PaintCost,
): void {
  const r = brushRadius(width);
  for (let i = points.length === 1 ? 0 : 1; i < points.length; i++) {
    const [ax, ay] = points[Math.max(0, i - 1)]!,
      [bx, by] = points[i]!;
    if (Number.isFinite(bx - ax) && Number.isFinite(by - ay)) {
      paintSegment(ax, ay, bx, by, r, imageWidth, imageHeight, paint, cost);
    }
  }
}
