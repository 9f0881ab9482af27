import type { Polygon } from './rasterize.js';
import type { LabelImage } from './types.js';

/**
 * Outer outline of every label as a polygon along pixel edges (pixel-corner coordinates, the
 * convention of ImageJ "traced" ROIs), so rasterising the outline gives the object back exactly
 * (holes are filled). Where an object has several pieces, the largest piece is returned.
 */
export function labelOutlines(labels: LabelImage): Map<number, Polygon> {
  const { width, height, data } = labels;
  const W1 = width + 1;
  // Directed boundary edges per label (start vertex -> end vertices), clockwise on screen around each object.
  const edges = new Map<number, Map<number, number[]>>();
  const add = (label: number, from: number, to: number) => {
    let m = edges.get(label);
    if (!m) {
      m = new Map();
      edges.set(label, m);
    }
    const list = m.get(from);
    if (list) list.push(to);
    else m.set(from, [to]);
  };
  const at = (x: number, y: number) => (x < 0 || y < 0 || x >= width || y >= height ? 0 : data[y * width + x]!);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const k = data[y * width + x]!;
      if (k <= 0) continue;
      const tl = y * W1 + x,
        tr = tl + 1,
        bl = tl + W1,
        br = bl + 1;
      // clockwise on screen (y down): top edge left->right, right edge top->bottom, ...
      if (at(x, y - 1) !== k) add(k, tl, tr);
      if (at(x + 1, y) !== k) add(k, tr, br);
      if (at(x, y + 1) !== k) add(k, br, bl);
      if (at(x - 1, y) !== k) add(k, bl, tl);
    }
  }
  const out = new Map<number, Polygon>();
  for (const [label, graph] of edges) {
    let best: [number, number][] | null = null,
      bestArea = 0;
    for (const loop of traceLoops(graph, W1)) {
      const area = signedArea(loop);
      if (area > bestArea) {
        bestArea = area;
        best = loop;
      }
    }
    if (best) out.set(label, best);
  }
  return out;
}

/**
 * Links directed edges into closed loops; at a vertex with two ways out, turns right (keeps diagonal
 * neighbours apart).
 */
function traceLoops(graph: Map<number, number[]>, W1: number): [number, number][][] {
  const loops: [number, number][][] = [];
  const xy = (v: number): [number, number] => [v % W1, Math.floor(v / W1)];
  for (const [start, outs] of graph) {
    while (outs.length > 0) {
      const points: [number, number][] = [];
      let from = start,
        to = outs.pop()!;
      points.push(xy(from));
      for (let guard = 0; to !== start && guard < 1e8; guard++) {
        const nexts = graph.get(to)!;
        let pick = 0;
        if (nexts.length > 1) {
          const [fx, fy] = xy(from),
            [tx, ty] = xy(to);
          const dx = tx - fx,
            dy = ty - fy;
          // right turn in y-down coordinates: (dx, dy) -> (-dy, dx)
          const want = (ty + dx) * W1 + (tx - dy);
          pick = Math.max(0, nexts.indexOf(want));
        }
        const next = nexts.splice(pick, 1)[0]!;
        points.push(xy(to));
        from = to;
        to = next;
      }
      loops.push(simplify(points));
    }
  }
  return loops;
}

/** Drops vertices in the middle of straight runs. */
function simplify(points: [number, number][]): [number, number][] {
  const n = points.length;
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    const [ax, ay] = points[(i - 1 + n) % n]!,
      [bx, by] = points[i]!,
      [cx, cy] = points[(i + 1) % n]!;
    if ((bx - ax) * (cy - by) - (by - ay) * (cx - bx) !== 0) out.push([bx, by]);
  }
  return out;
}

/** Shoelace area; positive for loops that run clockwise on screen (y down), i.e. outer outlines here. */
export function signedArea(polygon: Polygon): number {
  let s = 0;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i]!,
      [xj, yj] = polygon[j]!;
    s += xj * yi - xi * yj;
  }
  return s / 2;
}
