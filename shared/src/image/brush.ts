/*
 * A round brush along a polyline, in level-0 pixel coordinates (pixel i covers [i, i+1), so its
 * centre is i + 0.5). The radius never drops below half a pixel diagonal, so a one-pixel stroke
 * is always a connected line.
 */

/** Called for every pixel the brush covers (level-0 coordinates). */
export type PaintTarget = (x: number, y: number) => void;

export type StrokePoint = readonly [number, number];

/** Squared distance from (px, py) to the segment a-b. */
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

/** Visits every pixel within the brush radius of the path, clipped to [0, width) x [0, height). */
export function paintStroke(
  points: readonly StrokePoint[],
  width: number,
  imageWidth: number,
  imageHeight: number,
  paint: PaintTarget,
): void {
  const r = brushRadius(width),
    r2 = r * r;
  const segments = points.length === 1 ? [[points[0]!, points[0]!]] : points.slice(1).map((p, i) => [points[i]!, p]);
  for (const [a, b] of segments) {
    const x0 = Math.max(0, Math.floor(Math.min(a![0], b![0]) - r)),
      x1 = Math.min(imageWidth - 1, Math.ceil(Math.max(a![0], b![0]) + r));
    const y0 = Math.max(0, Math.floor(Math.min(a![1], b![1]) - r)),
      y1 = Math.min(imageHeight - 1, Math.ceil(Math.max(a![1], b![1]) + r));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        if (segmentDistance2(x + 0.5, y + 0.5, a![0], a![1], b![0], b![1]) <= r2) paint(x, y);
      }
    }
  }
}
