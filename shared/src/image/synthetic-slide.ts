import type { RegionSource } from './types.js';

/*
 * A procedural whole-slide multiplexed image of any size, generated band by band so it never
 * exists whole in memory: cells on a jittered grid inside tissue regions (low-frequency noise),
 * a nucleus channel, a membrane channel, a cytoplasm channel and marker channels on subsets of
 * cells. Deterministic in the seed; any band can be regenerated alone.
 */

const CHANNELS = ['DAPI', 'E-cadherin', 'CK', 'CD45', 'CD3', 'CD8', 'Ki67', 'PanCK'];
const SPACING = 22;

/** A 32-bit integer hash of (a, b, seed) -> [0, 1). */
function hash(a: number, b: number, seed: number): number {
  let h = Math.imul(a, 0x27d4eb2d) ^ Math.imul(b, 0x165667b1) ^ Math.imul(seed, 0x9e3779b9);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** Smooth value noise on a coarse lattice (tissue vs empty glass). */
function tissue(x: number, y: number, seed: number): number {
  const s = 900,
    gx = x / s,
    gy = y / s,
    ix = Math.floor(gx),
    iy = Math.floor(gy),
    fx = gx - ix,
    fy = gy - iy;
  const ux = fx * fx * (3 - 2 * fx),
    uy = fy * fy * (3 - 2 * fy);
  const v = (i: number, j: number) => hash(i, j, seed + 17);
  return (
    (v(ix, iy) * (1 - ux) + v(ix + 1, iy) * ux) * (1 - uy) + (v(ix, iy + 1) * (1 - ux) + v(ix + 1, iy + 1) * ux) * uy
  );
}

interface SlideCell {
  x: number;
  y: number;
  r: number;
  epithelial: boolean;
  markers: number[];
}

function cellAt(i: number, j: number, seed: number, channels: number): SlideCell | null {
  const cx = (i + 0.5) * SPACING + (hash(i, j, seed) - 0.5) * SPACING * 0.6;
  const cy = (j + 0.5) * SPACING + (hash(j, i, seed + 1) - 0.5) * SPACING * 0.6;
  const t = tissue(cx, cy, seed);
  if (t < 0.42 || hash(i, j, seed + 2) > 0.35 + t) return null;
  const epithelial = t > 0.6 && hash(i, j, seed + 3) < 0.8;
  const r = epithelial ? 8 + 3 * hash(i, j, seed + 4) : 4.5 + 2 * hash(i, j, seed + 4);
  const markers = Array.from({ length: Math.max(0, channels - 3) }, (_, m) =>
    hash(i, j, seed + 10 + m) < (epithelial ? 0.15 : 0.45) ? 0.5 + 0.5 * hash(j, i, seed + 20 + m) : 0,
  );
  return { x: cx, y: cy, r, epithelial, markers };
}

export interface SyntheticSlideOptions {
  width: number;
  height: number;
  channels: number;
  seed: number;
}

/** The cells whose discs may reach rows y0..y1 of a slide `width` wide, with their ids (unique per slide). */
function cellsInRows(o: SyntheticSlideOptions, y0: number, y1: number, visit: (cell: SlideCell, id: number) => void) {
  const j0 = Math.floor((y0 - 16) / SPACING),
    j1 = Math.floor((y1 + 16) / SPACING);
  const i1 = Math.floor((o.width + 16) / SPACING);
  for (let j = j0; j <= j1; j++) {
    for (let i = -1; i <= i1; i++) {
      const cell = cellAt(i, j, o.seed, o.channels);
      if (cell) visit(cell, (j + 1) * (i1 + 2) + i + 2);
    }
  }
}

/**
 * The ground truth of a synthetic slide over a rectangle: each pixel inside a cell's disc carries
 * that cell's id (where discs overlap, the nearer centre's), 0 elsewhere.
 */
export function syntheticSlideLabels(
  o: SyntheticSlideOptions,
  rect: { x: number; y: number; width: number; height: number },
): Int32Array {
  const { x: x0, y: y0, width: w, height: h } = rect;
  const labels = new Int32Array(w * h);
  const nearest = new Float32Array(w * h).fill(Number.POSITIVE_INFINITY);
  cellsInRows(o, y0, y0 + h, (cell, id) => {
    const r2 = cell.r * cell.r;
    const ya = Math.max(y0, Math.floor(cell.y - cell.r)),
      yb = Math.min(y0 + h - 1, Math.ceil(cell.y + cell.r));
    const xa = Math.max(x0, Math.floor(cell.x - cell.r)),
      xb = Math.min(x0 + w - 1, Math.ceil(cell.x + cell.r));
    for (let y = ya; y <= yb; y++) {
      for (let x = xa; x <= xb; x++) {
        const dx = x + 0.5 - cell.x,
          dy = y + 0.5 - cell.y,
          d2 = (dx * dx + dy * dy) / r2;
        const k = (y - y0) * w + x - x0;
        if (d2 <= 1 && d2 < nearest[k]!) {
          nearest[k] = d2;
          labels[k] = id;
        }
      }
    }
  });
  return labels;
}

/** An 8-bit procedural slide as a band-by-band source for the OME-Zarr writer. */
export function syntheticSlideSource(o: SyntheticSlideOptions): RegionSource {
  if (o.channels < 2 || o.channels > CHANNELS.length)
    throw new RangeError(`synthetic slides have 2-${CHANNELS.length} channels, got ${o.channels}`);
  // A fixed table of noise values, read at hashed offsets: cheap per pixel, no visible pattern at 8 bits.
  const noise = new Uint8Array(1 << 16);
  for (let i = 0; i < noise.length; i++) noise[i] = Math.floor(hash(i, 7, o.seed) * 24);
  return {
    width: o.width,
    height: o.height,
    channels: o.channels,
    dtype: 'uint8',
    channelNames: CHANNELS.slice(0, o.channels),
    async readRows(y0, rows) {
      const W = o.width,
        planes = Array.from({ length: o.channels }, () => new Uint8Array(rows * W));
      for (let c = 0; c < o.channels; c++) {
        const p = planes[c]!;
        for (let y = 0; y < rows; y++) {
          const off = ((y0 + y) * 40503 + c * 9973) & 0xffff;
          for (let x = 0; x < W; x++) p[y * W + x] = noise[(off + x * 7) & 0xffff]!;
        }
      }
      cellsInRows(o, y0, y0 + rows, (cell) => {
        const r = cell.r,
          r2 = r * r,
          n2 = 0.35 * r2;
        const ya = Math.max(y0, Math.floor(cell.y - r)),
          yb = Math.min(y0 + rows - 1, Math.ceil(cell.y + r));
        const xa = Math.max(0, Math.floor(cell.x - r)),
          xb = Math.min(W - 1, Math.ceil(cell.x + r));
        for (let y = ya; y <= yb; y++) {
          const dy = y + 0.5 - cell.y,
            row = (y - y0) * W;
          for (let x = xa; x <= xb; x++) {
            const dx = x + 0.5 - cell.x,
              d2 = dx * dx + dy * dy;
            if (d2 > r2) continue;
            const k = row + x;
            if (d2 < n2) planes[0]![k] = Math.min(255, planes[0]![k]! + 170);
            if (d2 > 0.6 * r2) planes[1]![k] = Math.min(255, planes[1]![k]! + (cell.epithelial ? 160 : 90));
            if (o.channels > 2 && cell.epithelial && d2 >= n2) planes[2]![k] = Math.min(255, planes[2]![k]! + 110);
            for (let m = 0; m < cell.markers.length; m++) {
              const v = cell.markers[m]!;
              if (v > 0 && d2 >= n2 * 0.5) planes[3 + m]![k] = Math.min(255, planes[3 + m]![k]! + Math.round(150 * v));
            }
          }
        }
      });
      return planes;
    },
  };
}
