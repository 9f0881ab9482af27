import { paintStroke, type StrokePoint } from './brush.js';
import type { LabelImage } from './types.js';

/**
 * A label raster over a possibly huge image that stores only the tiles something was painted on
 * (a scribble raster of a whole slide is mostly empty). Tiles are `tile` x `tile` bytes.
 */
export class SparseRaster {
  private readonly tiles = new Map<string, Uint8Array>();
  /** Tiles changed since the last `takeDirty()`, as "tx,ty". */
  private dirty = new Set<string>();

  constructor(
    readonly width: number,
    readonly height: number,
    readonly tile = 256,
  ) {}

  private key(tx: number, ty: number): string {
    return `${tx},${ty}`;
  }

  get(x: number, y: number): number {
    const t = this.tiles.get(this.key(Math.floor(x / this.tile), Math.floor(y / this.tile)));
    return t ? t[(y % this.tile) * this.tile + (x % this.tile)]! : 0;
  }

  set(x: number, y: number, value: number): void {
    const tx = Math.floor(x / this.tile),
      ty = Math.floor(y / this.tile),
      k = this.key(tx, ty);
    let t = this.tiles.get(k);
    if (!t) {
      if (value === 0) return;
      t = new Uint8Array(this.tile * this.tile);
      this.tiles.set(k, t);
    }
    t[(y % this.tile) * this.tile + (x % this.tile)] = value;
    this.dirty.add(k);
  }

  /** Paints a stroke with `value` (0 erases). */
  paint(points: readonly StrokePoint[], width: number, value: number): void {
    paintStroke(points, width, this.width, this.height, (x, y) => this.set(x, y, value));
  }

  /** Tile coordinates holding any painted pixel, as [tx, ty]. */
  tileCoordinates(): Array<[number, number]> {
    return [...this.tiles.entries()]
      .filter(([, t]) => t.some((v) => v !== 0))
      .map(([k]) => k.split(',').map(Number) as [number, number]);
  }

  /** Tiles changed since the last call, as [tx, ty]. */
  takeDirty(): Array<[number, number]> {
    const out = [...this.dirty].map((k) => k.split(',').map(Number) as [number, number]);
    this.dirty = new Set();
    return out;
  }

  /** Every tile counts as changed (after a rebuild that may have cleared some). */
  markAllDirty(keys: Iterable<[number, number]>): void {
    for (const [tx, ty] of keys) this.dirty.add(this.key(tx, ty));
  }

  /** A dense copy of a level-0 region (pixels outside the image are 0). */
  region(x0: number, y0: number, width: number, height: number): LabelImage {
    const data = new Int32Array(width * height);
    for (let y = 0; y < height; y++) {
      const sy = y0 + y;
      if (sy < 0 || sy >= this.height) continue;
      for (let x = 0; x < width; x++) {
        const sx = x0 + x;
        if (sx >= 0 && sx < this.width) data[y * width + x] = this.get(sx, sy);
      }
    }
    return { width, height, data };
  }

  /** Count of painted pixels per value. */
  counts(): Map<number, number> {
    const out = new Map<number, number>();
    for (const t of this.tiles.values()) for (const v of t) if (v) out.set(v, (out.get(v) ?? 0) + 1);
    return out;
  }
}

/** A drawing as the stroke log holds it (add paints its class, erase clears). */
export interface RasterDrawing {
  op: 'add' | 'erase';
  class: number;
  width: number;
  points: ReadonlyArray<readonly [number, number]>;
}

/** The scribble raster of a log's drawings in effect, painted in log order. */
export function rasterizeDrawings(
  drawings: readonly RasterDrawing[],
  width: number,
  height: number,
  tile = 256,
): SparseRaster {
  const raster = new SparseRaster(width, height, tile);
  for (const d of drawings) raster.paint(d.points, d.width, d.op === 'add' ? d.class : 0);
  return raster;
}
