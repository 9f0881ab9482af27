// Tests of shared/src/image/brush.ts: painting a stroke with a round brush (paintStroke, strokeArea).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type PaintCost, type PaintTarget, paintStroke, Random, type StrokePoint, strokeArea } from '@impartial/shared';

/**
 * The definition, as paintStroke was first written: every pixel of each segment's bounding box
 * whose centre is within r of the segment (ties included), visited once a segment.
 */
function referencePaint(points: readonly StrokePoint[], width: number, w: number, h: number, paint: PaintTarget) {
  const distance2 = (px: number, py: number, ax: number, ay: number, bx: number, by: number) => {
    const dx = bx - ax,
      dy = by - ay;
    const len2 = dx * dx + dy * dy;
    const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2));
    const qx = ax + t * dx - px,
      qy = ay + t * dy - py;
    return qx * qx + qy * qy;
  };
  const r = Math.max(width / 2, Math.SQRT1_2),
    r2 = r * r;
  const segments = points.length === 1 ? [[points[0]!, points[0]!]] : points.slice(1).map((p, i) => [points[i]!, p]);
  for (const [a, b] of segments) {
    const x0 = Math.max(0, Math.floor(Math.min(a![0], b![0]) - r)),
      x1 = Math.min(w - 1, Math.ceil(Math.max(a![0], b![0]) + r));
    const y0 = Math.max(0, Math.floor(Math.min(a![1], b![1]) - r)),
      y1 = Math.min(h - 1, Math.ceil(Math.max(a![1], b![1]) + r));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        if (distance2(x + 0.5, y + 0.5, a![0], a![1], b![0], b![1]) <= r2) paint(x, y);
      }
    }
  }
}

/** Every visit as "x,y", sorted (a pixel visited by two segments appears twice). */
function visits(paint: (target: PaintTarget) => void): string[] {
  const out: string[] = [];
  paint((x, y) => out.push(`${x},${y}`));
  return out.sort();
}

function count(points: readonly StrokePoint[], width: number, w: number, h: number): number {
  let n = 0;
  paintStroke(points, width, w, h, () => n++);
  return n;
}

const pathLength = (points: readonly StrokePoint[]) =>
  points.slice(1).reduce((s, p, i) => s + Math.hypot(p[0] - points[i]![0], p[1] - points[i]![1]), 0);

describe('brush', () => {
  it('paints a round brush: a one-pixel stroke is a connected line, widths are diameters', () => {
    const hit = new Set<string>();
    paintStroke(
      [
        [0.5, 0.5],
        [9.5, 3.5],
      ],
      1,
      20,
      20,
      (x, y) => hit.add(`${x},${y}`),
    );
    for (let x = 0; x <= 9; x++)
      assert.ok(
        [...hit].some((k) => k.startsWith(`${x},`)),
        `column ${x} is painted`,
      );
    const disc: Array<[number, number]> = [];
    paintStroke([[10, 10]], 6, 20, 20, (x, y) => disc.push([x, y]));
    assert.ok(disc.length > 24 && disc.length < 36, `a width-6 dab covers about pi*9 pixels (${disc.length})`);
    assert.ok(disc.every(([x, y]) => Math.hypot(x + 0.5 - 10, y + 0.5 - 10) <= 3));
    const clipped: Array<[number, number]> = [];
    paintStroke(
      [
        [-5, -5],
        [2, 2],
      ],
      4,
      20,
      20,
      (x, y) => clipped.push([x, y]),
    );
    assert.ok(
      clipped.every(([x, y]) => x >= 0 && y >= 0),
      'clipped to the image',
    );
  });

  it('visits exactly the pixels the definition does, ties included, on random strokes', () => {
    const random = new Random(7);
    // Whole and half coordinates make ties (a centre exactly r from the segment) common.
    const coordinate = (lo: number, hi: number) => {
      const v = random.uniform(lo, hi);
      const kind = random.int(0, 3);
      return kind === 0 ? Math.round(v) : kind === 1 ? Math.round(v) + 0.5 : v;
    };
    for (let k = 0; k < 3000; k++) {
      const w = random.int(1, 33),
        h = random.int(1, 33);
      const far = k % 10 === 0 ? 1000 : 20; // some strokes start or end far outside the image
      const n = random.int(1, 7);
      const points: StrokePoint[] = [];
      for (let i = 0; i < n; i++) {
        if (i > 0 && random.next() < 0.15)
          points.push(points[i - 1]!); // a zero-length segment
        else points.push([coordinate(-far, w + far), coordinate(-far, h + far)]);
      }
      const width = random.next() < 0.5 ? random.int(1, 41) : random.uniform(0.2, 40);
      const expected = visits((p) => referencePaint(points, width, w, h, p));
      const actual = visits((p) => paintStroke(points, width, w, h, p));
      assert.deepEqual(actual, expected, `stroke ${k}: ${JSON.stringify(points)} width ${width} on ${w} x ${h}`);
    }
  });

  it('tests only pixels within its capsules: a 2000-point zigzag of width 512', () => {
    const points: StrokePoint[] = Array.from({ length: 2000 }, (_, i) => [100 + 10 * i, 15_000 + (i % 2) * 40]);
    const r = 256;
    const bound = (pathLength(points) * 2 * r + (points.length - 1) * Math.PI * r * r) * 1.1 + 100;
    const cost: PaintCost = { tested: 0 };
    let painted = 0;
    paintStroke(points, 2 * r, 30_000, 30_000, () => painted++, cost);
    // The old painter tested each segment's bounding box: 2000 x 522^2, over 500 Mi pixels.
    assert.ok(cost.tested <= strokeArea(points, 2 * r), `${cost.tested} tested, over strokeArea`);
    assert.ok(painted <= bound, `${painted} visits, at most ${Math.round(bound)}`);
    assert.ok(painted >= bound / 1.2, `${painted} visits: the capsules are painted`);
  });

  it('tests at most strokeArea pixels in any direction, nearly horizontal and vertical ones too', () => {
    const random = new Random(11);
    for (let k = 0; k < 400; k++) {
      const [x, y] = [random.uniform(10_000, 11_000), random.uniform(10_000, 11_000)];
      // Some angles within 1e-7 of an axis: the rows of those segments are found another way.
      const axis = (random.int(0, 3) * Math.PI) / 2;
      const angle = k % 2 ? axis + random.uniform(-1e-7, 1e-7) : random.uniform(0, 2 * Math.PI);
      const length = k % 5 === 0 ? random.uniform(0, 3) : random.uniform(3, 5000);
      const width = k % 3 === 0 ? random.int(1, 5) : random.uniform(0.2, 64);
      const points: StrokePoint[] = [
        [x, y],
        [x + length * Math.cos(angle), y + length * Math.sin(angle)],
      ];
      const cost: PaintCost = { tested: 0 };
      paintStroke(points, width, 30_000, 30_000, () => {}, cost);
      const area = strokeArea(points, width);
      assert.ok(cost.tested <= area, `${JSON.stringify(points)} width ${width}: ${cost.tested} tested, area ${area}`);
    }
    // and paints there exactly what the definition paints
    for (let k = 0; k < 600; k++) {
      const [x, y] = [random.uniform(20, 80), random.uniform(20, 80)];
      const angle = (random.int(0, 3) * Math.PI) / 2 + (k % 3 ? random.uniform(-1e-7, 1e-7) : 0);
      const length = random.uniform(0, 40);
      const points: StrokePoint[] = [
        [x, y],
        [x + length * Math.cos(angle), y + length * Math.sin(angle)],
      ];
      const width = k % 2 ? random.int(1, 21) : random.uniform(0.2, 20);
      assert.deepEqual(
        visits((p) => paintStroke(points, width, 100, 100, p)),
        visits((p) => referencePaint(points, width, 100, 100, p)),
        `${JSON.stringify(points)} width ${width}`,
      );
    }
  });

  it('costs only what is inside the image for a stroke mostly outside it', () => {
    const across: StrokePoint[] = [
      [-1_000_000, -999_950],
      [1_000_000, 1_000_050],
    ];
    const expected = visits((p) => referencePaint(across, 9, 100, 100, p));
    assert.ok(expected.length > 400, `${expected.length} pixels inside`);
    assert.deepEqual(
      visits((p) => paintStroke(across, 9, 100, 100, p)),
      expected,
    );
    assert.equal(count([[-50, 50]], 40, 100, 100), 0, 'a dab beside the image paints nothing');
  });

  it('strokeArea bounds the pixels a stroke paints, within 2x for long strokes', () => {
    const random = new Random(3);
    // Single dabs: a one-pixel dab on a pixel corner paints four pixels (ties), more than pi r^2.
    assert.equal(count([[10, 10]], 1, 20, 20), 4);
    for (let k = 0; k < 300; k++) {
      const point: StrokePoint = [random.uniform(100, 101), random.uniform(100, 101)];
      const width = k % 3 === 0 ? random.int(1, 41) : random.uniform(0.5, 40);
      const painted = count([point], width, 300, 300);
      assert.ok(painted <= strokeArea([point], width), `dab at ${point} width ${width}: ${painted}`);
    }
    assert.equal(strokeArea([], 10), 0);
    const huge = 1_000_000;
    for (const width of [1, 2, 5, 16, 64, 200, 512]) {
      for (let k = 0; k < 3; k++) {
        const points: StrokePoint[] = [[random.uniform(1000, huge - 1000), random.uniform(1000, huge - 1000)]];
        for (let i = 1; i < 5; i++) {
          const angle = random.uniform(0, 2 * Math.PI),
            length = random.uniform(2000, 6000);
          const [x, y] = points[i - 1]!;
          points.push([x + length * Math.cos(angle), y + length * Math.sin(angle)]);
        }
        const area = strokeArea(points, width),
          painted = count(points, width, huge, huge);
        assert.ok(painted <= area, `width ${width}: ${painted} painted, bound ${area}`);
        // A one-pixel line paints 1 to 2 pixels a unit of length, the bound counts 2 sqrt(2).
        if (width >= 2) assert.ok(area <= 2 * painted, `width ${width}: bound ${area} for ${painted} painted`);
      }
    }
    assert.equal(strokeArea([[0, 0]], Number.NaN), Infinity, 'no width, no bound');
  });
});
