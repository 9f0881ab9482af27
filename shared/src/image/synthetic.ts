import { Random } from './random.js';
import type { LabelImage, MultiChannelImage } from './types.js';

export interface SyntheticOptions {
  width: number;
  height: number;
  /** 2-8 channels: nuclear, membrane, cytoplasm, then markers expressed by a subset of cells. */
  channels: number;
  seed: number;
  /** Mean cell radius in pixels. */
  cellRadius?: number;
  /** Share of the area covered by cells (crowding, and so how many cells touch). */
  density?: number;
  /** Gaussian noise as a share of the brightest signal. */
  noise?: number;
  /** Amplitude of the smooth illumination gradient (0 = flat). */
  illumination?: number;
}

export interface SyntheticSample {
  image: MultiChannelImage;
  labels: LabelImage;
}

const CHANNEL_NAMES = ['DAPI', 'E-cadherin', 'CK', 'CD45', 'CD3', 'CD8', 'Ki67', 'PanCK'];

interface Cell { x: number; y: number; a: number; b: number; cos: number; sin: number; brightness: number; markers: number[] }

/** Seeded synthetic multiplexed tissue with touching cells and exact ground-truth instances. */
export function syntheticCells(options: SyntheticOptions): SyntheticSample {
  const { width, height, channels } = options;
  if (channels < 2 || channels > 8) throw new RangeError(`synthetic images have 2-8 channels, got ${channels}`);
  const radius = options.cellRadius ?? 8, density = options.density ?? 0.55;
  const noise = options.noise ?? 0.06, illumination = options.illumination ?? 0.35;
  const rng = new Random(options.seed);
  // Dart throwing with a minimum centre distance that lets cells touch but rarely overlap much.
  const target = Math.round((density * width * height) / (Math.PI * radius * radius));
  const minDist = 1.6 * radius;
  const cells: Cell[] = [];
  const grid = new Map<number, Cell[]>();
  const cellKey = (gx: number, gy: number) => gy * 100003 + gx;
  for (let tries = 0; cells.length < target && tries < target * 30; tries++) {
    const x = rng.uniform(0, width), y = rng.uniform(0, height);
    const gx = Math.floor(x / minDist), gy = Math.floor(y / minDist);
    let ok = true;
    for (let dy = -1; dy <= 1 && ok; dy++) for (let dx = -1; dx <= 1 && ok; dx++) {
      for (const c of grid.get(cellKey(gx + dx, gy + dy)) ?? []) if ((c.x - x) ** 2 + (c.y - y) ** 2 < minDist * minDist) { ok = false; break; }
    }
    if (!ok) continue;
    const angle = rng.uniform(0, Math.PI);
    const cell: Cell = {
      x, y, a: radius * rng.uniform(0.85, 1.35), b: radius * rng.uniform(0.7, 1.1), cos: Math.cos(angle), sin: Math.sin(angle),
      brightness: rng.uniform(0.5, 1.2), markers: Array.from({ length: Math.max(0, channels - 3) }, () => (rng.next() < 0.4 ? rng.uniform(0.5, 1.2) : 0)),
    };
    cells.push(cell);
    const k = cellKey(gx, gy);
    grid.set(k, [...(grid.get(k) ?? []), cell]);
  }
  // Each pixel belongs to the cell whose ellipse reaches it most deeply (Voronoi-like shared borders).
  const n = width * height;
  const labels = new Int32Array(n);
  const depth = new Float32Array(n).fill(Infinity);
  cells.forEach((c, i) => {
    const r = Math.max(c.a, c.b) + 1;
    for (let y = Math.max(0, Math.floor(c.y - r)); y < Math.min(height, Math.ceil(c.y + r)); y++) {
      for (let x = Math.max(0, Math.floor(c.x - r)); x < Math.min(width, Math.ceil(c.x + r)); x++) {
        const dx = x + 0.5 - c.x, dy = y + 0.5 - c.y;
        const u = (dx * c.cos + dy * c.sin) / c.a, v = (-dx * c.sin + dy * c.cos) / c.b;
        const d = u * u + v * v;
        if (d <= 1 && d < depth[y * width + x]!) { depth[y * width + x] = d; labels[y * width + x] = i + 1; }
      }
    }
  });
  const clean = new Float32Array(channels * n);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x, k = labels[i]!;
      if (!k) continue;
      const c = cells[k - 1]!;
      const border = (x > 0 && labels[i - 1] !== k) || (x < width - 1 && labels[i + 1] !== k) || (y > 0 && labels[i - width] !== k) || (y < height - 1 && labels[i + width] !== k);
      const nucleus = depth[i]! < 0.3;
      clean[i] = nucleus ? c.brightness : 0.05;                                  // nuclear
      clean[n + i] = border ? 0.9 : depth[i]! > 0.6 ? 0.25 : 0.08;                // membrane
      if (channels > 2) clean[2 * n + i] = nucleus ? 0.15 : 0.55 * c.brightness;  // cytoplasm
      c.markers.forEach((m, j) => { clean[(3 + j) * n + i] = m * (j % 2 === 0 ? (border ? 1 : 0.3) : 0.7); });
    }
  }
  const data = new Float32Array(channels * n);
  const phase = rng.uniform(0, 2 * Math.PI);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        // 3x3 blur stands in for the optics; the slow field for uneven illumination
        let s = 0, m = 0;
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
          const yy = y + dy, xx = x + dx;
          if (yy >= 0 && yy < height && xx >= 0 && xx < width) { s += clean[c * n + yy * width + xx]!; m++; }
        }
        const field = 1 + illumination * Math.sin(phase + (2 * x) / width + (1.3 * y) / height);
        const v = 0.03 + (s / m) * field + noise * rng.normal();
        data[c * n + y * width + x] = Math.max(0, v) * 1000;
      }
    }
  }
  return {
    image: { width, height, channels, data, channelNames: CHANNEL_NAMES.slice(0, channels) },
    labels: { width, height, data: labels },
  };
}
