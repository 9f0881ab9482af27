import { Random } from './random.js';
import type { LabelImage, MultiChannelImage } from './types.js';

export interface SyntheticOptions {
  width: number;
  height: number;
  /** 2-8 channels: nuclear, whole-cell (membrane + cytoplasm), cytoplasm, then markers on a subset of cells. */
  channels: number;
  seed: number;
  /** Mean radius of the large (epithelial) cells in pixels; immune cells are about 0.45 of it. */
  cellRadius?: number;
  /** Share of the area covered by cells (crowding, and so how many cells touch). */
  density?: number;
  /** Share of cells that sit in dense epithelial clusters (the rest are small scattered immune cells). */
  clustered?: number;
  /** Gaussian noise as a share of the brightest signal. */
  noise?: number;
  /** Amplitude of the smooth illumination gradient (0 = flat). */
  illumination?: number;
  /**
   * Tissue closer to real panels (off by default, so seeded samples stay as they were): irregular
   * cell outlines instead of ellipses, membranes that fade along their length and from cell to cell
   * (some barely visible), a share of membrane-only cells (nucleus out of plane), Gaussian optical
   * blur of random width and shot noise that grows with the signal.
   */
  realistic?: boolean;
}

export interface SyntheticSample {
  image: MultiChannelImage;
  labels: LabelImage;
}

const CHANNEL_NAMES = ['DAPI', 'E-cadherin', 'CK', 'CD45', 'CD3', 'CD8', 'Ki67', 'PanCK'];

interface Cell {
  x: number;
  y: number;
  a: number;
  b: number;
  cos: number;
  sin: number;
  /** Nucleus size as a share of the cell, and its offset from the centre. */
  nucleus: number;
  nx: number;
  ny: number;
  kind: 'epithelial' | 'immune';
  brightness: number;
  wholeCell: number;
  markers: number[];
  /** Outline harmonics (realistic): radius factor 1 + sum of a * cos(k * angle + phase), k = 2, 3, 4. */
  wobble?: Array<{ k: number; a: number; phase: number }>;
}

/** How far out the outline of a cell lies in the direction (u, v) of its own frame (1 for an ellipse). */
function outlineRadius(c: Cell, u: number, v: number): number {
  if (!c.wobble) return 1;
  const angle = Math.atan2(v, u);
  let r = 1;
  for (const w of c.wobble) r += w.a * Math.cos(w.k * angle + w.phase);
  return r;
}

/** A smooth random field in [0, 1] (bilinear interpolation of a coarse random grid). */
function smoothField(width: number, height: number, cell: number, rng: Random): Float32Array {
  const gw = Math.ceil(width / cell) + 2,
    gh = Math.ceil(height / cell) + 2;
  const grid = Float32Array.from({ length: gw * gh }, () => rng.next());
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const gy = y / cell,
      y0 = Math.floor(gy),
      fy = gy - y0;
    for (let x = 0; x < width; x++) {
      const gx = x / cell,
        x0 = Math.floor(gx),
        fx = gx - x0;
      const g = (i: number, j: number) => grid[(y0 + j) * gw + x0 + i]!;
      out[y * width + x] = (g(0, 0) * (1 - fx) + g(1, 0) * fx) * (1 - fy) + (g(0, 1) * (1 - fx) + g(1, 1) * fx) * fy;
    }
  }
  return out;
}

/**
 * Seeded synthetic multiplexed tissue with exact ground-truth instances: dense clusters of large
 * epithelial cells that touch without gaps (bright whole-cell marker, nucleus inside), and small
 * round immune cells scattered in between (mostly nucleus). Optical blur, textured nuclei,
 * uneven illumination and noise on top.
 */
export function syntheticCells(options: SyntheticOptions): SyntheticSample {
  const { width, height, channels } = options;
  if (channels < 2 || channels > 8) throw new RangeError(`synthetic images have 2-8 channels, got ${channels}`);
  const radius = options.cellRadius ?? 9,
    density = options.density ?? 0.55,
    clustered = options.clustered ?? 0.6;
  const noise = options.noise ?? 0.05,
    illumination = options.illumination ?? 0.3,
    realistic = options.realistic ?? false;
  const rng = new Random(options.seed);
  const n = width * height;
  // Where epithelium grows: the high ground of a smooth random field.
  const tissue = smoothField(width, height, Math.max(24, 5 * radius), rng);
  const cells: Cell[] = [];
  const grid = new Map<number, Cell[]>();
  const bin = 2 * radius;
  const key = (gx: number, gy: number) => gy * 100003 + gx;
  const fits = (x: number, y: number, minDist: (c: Cell) => number) => {
    const gx = Math.floor(x / bin),
      gy = Math.floor(y / bin);
    for (let dy = -1; dy <= 1; dy++)
      for (let dx = -1; dx <= 1; dx++) {
        for (const c of grid.get(key(gx + dx, gy + dy)) ?? [])
          if ((c.x - x) ** 2 + (c.y - y) ** 2 < minDist(c) ** 2) return false;
      }
    return true;
  };
  const add = (c: Cell) => {
    cells.push(c);
    const k = key(Math.floor(c.x / bin), Math.floor(c.y / bin));
    grid.set(k, [...(grid.get(k) ?? []), c]);
  };
  const markers = () =>
    Array.from({ length: Math.max(0, channels - 3) }, () => (rng.next() < 0.4 ? rng.uniform(0.5, 1.2) : 0));
  let covered = 0;
  const target = density * n;
  for (let tries = 0; covered < target && tries < 40 * (target / (radius * radius)); tries++) {
    const x = rng.uniform(0, width),
      y = rng.uniform(0, height);
    const epithelial = tissue[Math.floor(y) * width + Math.floor(x)]! > 1 - clustered;
    const r = epithelial ? radius * rng.uniform(0.85, 1.3) : radius * rng.uniform(0.45, 0.65);
    // Epithelial cells pack tightly (their ellipses overlap and share borders); immune cells keep apart.
    if (!fits(x, y, (c) => (epithelial && c.kind === 'epithelial' ? 1.05 * Math.min(r, c.a) : r + c.b + 1))) continue;
    const angle = rng.uniform(0, Math.PI);
    const elong = epithelial ? rng.uniform(1.1, 1.6) : rng.uniform(1, 1.2);
    const extra = realistic ? realisticTraits(rng, epithelial) : {};
    add({
      x,
      y,
      a: r * Math.sqrt(elong),
      b: r / Math.sqrt(elong),
      cos: Math.cos(angle),
      sin: Math.sin(angle),
      nucleus: epithelial ? rng.uniform(0.4, 0.55) : rng.uniform(0.75, 0.9),
      nx: epithelial ? rng.uniform(-0.2, 0.2) : 0,
      ny: epithelial ? rng.uniform(-0.2, 0.2) : 0,
      kind: epithelial ? 'epithelial' : 'immune',
      brightness: rng.uniform(0.5, 1.2),
      wholeCell: epithelial ? rng.uniform(0.6, 1.1) : rng.uniform(0, 0.15),
      markers: markers(),
      ...extra,
    });
    covered += Math.PI * r * r;
  }
  // Each pixel belongs to the cell whose ellipse reaches it most deeply (shared borders, no gaps).
  const labels = new Int32Array(n);
  const depth = new Float32Array(n).fill(Infinity);
  const local = new Float32Array(2 * n); // (u, v) of the pixel in its cell's frame
  cells.forEach((c, i) => {
    const r = Math.max(c.a, c.b) * (c.wobble ? 1.5 : 1) + 1;
    for (let y = Math.max(0, Math.floor(c.y - r)); y < Math.min(height, Math.ceil(c.y + r)); y++) {
      for (let x = Math.max(0, Math.floor(c.x - r)); x < Math.min(width, Math.ceil(c.x + r)); x++) {
        const dx = x + 0.5 - c.x,
          dy = y + 0.5 - c.y;
        const u = (dx * c.cos + dy * c.sin) / c.a,
          v = (-dx * c.sin + dy * c.cos) / c.b;
        const rho = outlineRadius(c, u, v);
        const d = (u * u + v * v) / (rho * rho),
          p = y * width + x;
        if (d <= 1 && d < depth[p]!) {
          depth[p] = d;
          labels[p] = i + 1;
          local[2 * p] = u;
          local[2 * p + 1] = v;
        }
      }
    }
  });
  keepLargestPieces(labels, width);
  const texture = smoothField(width, height, 2.5, rng);
  // Realistic: membranes fade along their length (a slow field between 0.15 and 1).
  const fade = realistic ? smoothField(width, height, Math.max(6, radius), rng).map((f) => 0.15 + 0.85 * f) : null;
  const clean = new Float32Array(channels * n);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x,
        k = labels[i]!;
      if (!k) continue;
      const c = cells[k - 1]!;
      const border =
        (x > 0 && labels[i - 1] !== k) ||
        (x < width - 1 && labels[i + 1] !== k) ||
        (y > 0 && labels[i - width] !== k) ||
        (y < height - 1 && labels[i + width] !== k);
      const nu = (local[2 * i]! - c.nx) / c.nucleus,
        nv = (local[2 * i + 1]! - c.ny) / c.nucleus;
      const inNucleus = nu * nu + nv * nv <= 1;
      clean[i] = inNucleus ? c.brightness * (0.6 + 0.6 * texture[i]!) : 0.04; // nuclear
      clean[n + i] = c.wholeCell * (border ? (fade ? fade[i]! : 1) : inNucleus ? 0.35 : 0.65); // whole-cell / membrane
      // cytoplasm
      if (channels > 2) clean[2 * n + i] = c.kind === 'epithelial' ? (inNucleus ? 0.15 : 0.6 * c.brightness) : 0.05;
      c.markers.forEach((m, j) => {
        clean[(3 + j) * n + i] = m * (j % 2 === 0 ? (border ? 1 : 0.3) : 0.7);
      });
    }
  }
  const data = new Float32Array(channels * n);
  const phase = rng.uniform(0, 2 * Math.PI);
  if (realistic) {
    const sigma = rng.uniform(0.6, 1.6);
    for (let ch = 0; ch < channels; ch++) {
      const blurred = gaussianBlur(clean.subarray(ch * n, (ch + 1) * n), width, height, sigma);
      for (let y = 0; y < height; y++)
        for (let x = 0; x < width; x++) {
          const field = 1 + illumination * Math.sin(phase + (2 * x) / width + (1.3 * y) / height);
          const signal = blurred[y * width + x]! * field;
          // read noise plus shot noise, which grows with the square root of the signal
          const sd = noise * (0.5 + Math.sqrt(signal));
          data[ch * n + y * width + x] = Math.max(0, 0.03 + signal + sd * rng.normal()) * 1000;
        }
    }
    return {
      image: { width, height, channels, data, channelNames: CHANNEL_NAMES.slice(0, channels) },
      labels: { width, height, data: labels },
    };
  }
  for (let ch = 0; ch < channels; ch++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        // 3x3 blur stands in for the optics; the slow field for uneven illumination
        let s = 0,
          m = 0;
        for (let dy = -1; dy <= 1; dy++)
          for (let dx = -1; dx <= 1; dx++) {
            const yy = y + dy,
              xx = x + dx;
            if (yy >= 0 && yy < height && xx >= 0 && xx < width) {
              s += clean[ch * n + yy * width + xx]!;
              m++;
            }
          }
        const field = 1 + illumination * Math.sin(phase + (2 * x) / width + (1.3 * y) / height);
        data[ch * n + y * width + x] = Math.max(0, 0.03 + (s / m) * field + noise * rng.normal()) * 1000;
      }
    }
  }
  return {
    image: { width, height, channels, data, channelNames: CHANNEL_NAMES.slice(0, channels) },
    labels: { width, height, data: labels },
  };
}

/** What a realistic cell adds: an irregular outline, a membrane from barely visible to bright, maybe no nucleus. */
function realisticTraits(rng: Random, epithelial: boolean): Partial<Cell> {
  const wobble = [2, 3, 4].map((k) => ({
    k,
    a: rng.uniform(0, epithelial ? 0.16 : 0.08) / (k - 1),
    phase: rng.uniform(0, 2 * Math.PI),
  }));
  const traits: Partial<Cell> = { wobble };
  if (epithelial) traits.wholeCell = rng.next() < 0.25 ? rng.uniform(0.12, 0.35) : rng.uniform(0.45, 1.1);
  // nucleus out of the focal plane: a membrane-only cell
  if (epithelial && rng.next() < 0.12) traits.brightness = rng.uniform(0.02, 0.08);
  return traits;
}

/** Separable Gaussian blur of one plane (edges clamped). */
function gaussianBlur(plane: Float32Array, width: number, height: number, sigma: number): Float32Array {
  const r = Math.ceil(3 * sigma);
  const kernel = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const total = kernel.reduce((s, v) => s + v, 0);
  const k = kernel.map((v) => v / total);
  const rows = new Float32Array(plane.length),
    out = new Float32Array(plane.length);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let i = -r; i <= r; i++) s += k[i + r]! * plane[y * width + Math.min(width - 1, Math.max(0, x + i))]!;
      rows[y * width + x] = s;
    }
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let i = -r; i <= r; i++) s += k[i + r]! * rows[Math.min(height - 1, Math.max(0, y + i)) * width + x]!;
      out[y * width + x] = s;
    }
  return out;
}

/** Where neighbours cut a cell into pieces, keeps its largest 4-connected piece and clears the crumbs. */
function keepLargestPieces(labels: Int32Array, width: number): void {
  const piece = new Int32Array(labels.length);
  const sizes: number[] = [0],
    owner: number[] = [0];
  const stack: number[] = [];
  for (let start = 0; start < labels.length; start++) {
    const k = labels[start]!;
    if (!k || piece[start]) continue;
    const id = sizes.length;
    let size = 0;
    piece[start] = id;
    stack.push(start);
    while (stack.length) {
      const i = stack.pop()!;
      size++;
      const x = i % width;
      for (const j of [x > 0 ? i - 1 : -1, x < width - 1 ? i + 1 : -1, i - width, i + width]) {
        if (j >= 0 && j < labels.length && !piece[j] && labels[j] === k) {
          piece[j] = id;
          stack.push(j);
        }
      }
    }
    sizes.push(size);
    owner.push(k);
  }
  const best = new Map<number, number>();
  for (let id = 1; id < sizes.length; id++) {
    const b = best.get(owner[id]!);
    if (b === undefined || sizes[id]! > sizes[b]!) best.set(owner[id]!, id);
  }
  for (let i = 0; i < labels.length; i++) if (labels[i] && best.get(labels[i]!) !== piece[i]) labels[i] = 0;
}
