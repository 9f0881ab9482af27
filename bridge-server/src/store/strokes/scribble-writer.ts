import { existsSync } from 'node:fs';
import path from 'node:path';
import { createOmeZarrLabels, openArray, type SparseRaster, writeRegion } from '@impartial/shared';
import { FileSystemStore } from '@impartial/shared/node';
import { DataFiles, type TaskFilesSpec, type ZarrPublisher } from '../files.js';

/** Scribble label colours: cell green, background magenta (as the viewer draws them). */
export const SCRIBBLE_COLORS: Array<{ 'label-value': number; rgba: [number, number, number, number] }> = [
  { 'label-value': 1, rgba: [0, 255, 0, 255] },
  { 'label-value': 2, rgba: [255, 0, 255, 255] },
];

/** Adds labels/scribbles (empty) to a freshly imported image. */
export async function createScribbleLabels(dir: string, width: number, height: number): Promise<void> {
  await createOmeZarrLabels(new FileSystemStore(dir), 'scribbles', width, height, '|u1', 256, SCRIBBLE_COLORS);
}

/** Where an image's OME-Zarr is (and its object storage, with `files`) and how many levels it has. */
export interface ScribbleTarget {
  dir: string;
  levels: number;
  files?: TaskFilesSpec;
}

/** The data files of each object storage a target names (one client per storage); the folder without one. */
const filesByStorage = new Map<string, Promise<DataFiles>>();
function filesOf(target: ScribbleTarget): Promise<DataFiles> {
  const spec = target.files;
  if (!spec) return Promise.resolve(DataFiles.folder('/'));
  const id = `${spec.store} ${spec.root}`;
  let files = filesByStorage.get(id);
  if (!files) {
    files = DataFiles.objectStore(spec.root, spec.store);
    // A storage that failed to open is tried again at the next write.
    files.catch(() => filesByStorage.delete(id));
    filesByStorage.set(id, files);
  }
  return files;
}

/** An image's raster and where it is written; null once the image is forgotten. */
export type HeldRaster = { raster: SparseRaster; target: ScribbleTarget } | null;

/**
 * Writes the dirty tiles of scribble rasters into each image's labels/scribbles (every pyramid
 * level), shortly after a change and serialised per image, so a burst of strokes is one write.
 * With object storage, the chunks written also go into the image's published version there.
 */
export class ScribbleWriter {
  private readonly flushes = new Map<string, Promise<void>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly held: (imageId: string) => HeldRaster,
    private readonly delayMs = 150,
  ) {}

  schedule(imageId: string): void {
    if (this.timers.has(imageId)) return;
    const timer = setTimeout(() => {
      this.timers.delete(imageId);
      void this.flush(imageId).catch(() => {});
    }, this.delayMs);
    this.timers.set(imageId, timer);
  }

  /** Writes what changed now (after any write already under way). */
  flush(imageId: string): Promise<void> {
    const previous = this.flushes.get(imageId) ?? Promise.resolve();
    const next = previous.then(() => this.writeDirty(imageId));
    this.flushes.set(
      imageId,
      next.catch(() => {}),
    );
    return next;
  }

  private async writeDirty(imageId: string): Promise<void> {
    const held = this.held(imageId);
    if (!held) return;
    const { raster, target } = held;
    const { dir, levels } = target;
    // A bridge node whose images live in object storage has no folder of its own for one it never wrote.
    if (!existsSync(path.join(dir, 'labels', 'scribbles', '0', '.zarray'))) {
      await createScribbleLabels(dir, raster.width, raster.height);
    }
    const dirty = raster.takeDirty();
    if (dirty.length === 0) return;
    let store: ZarrPublisher;
    try {
      store = await (await filesOf(target)).mirror(dir);
    } catch (e) {
      raster.markAllDirty(dirty); // written at the next flush
      throw e;
    }
    try {
      await this.writeTiles(store, raster, levels, dirty);
      await store.flush();
    } catch (e) {
      raster.markAllDirty(dirty); // written again at the next flush
      throw e;
    }
  }

  private async writeTiles(
    store: ZarrPublisher,
    raster: SparseRaster,
    levels: number,
    dirty: Array<[number, number]>,
  ): Promise<void> {
    const T = raster.tile;
    for (let level = 0; level < levels; level++) {
      const arr = await openArray(store, `labels/scribbles/${level}`);
      const [H, W] = arr.shape.slice(-2) as [number, number];
      const f = 2 ** level;
      for (const key of new Set(dirty.map(([tx, ty]) => `${tx >> level},${ty >> level}`))) {
        const [cx, cy] = key.split(',').map(Number) as [number, number];
        const x0 = cx * T,
          y0 = cy * T,
          w = Math.min(T, W - x0),
          h = Math.min(T, H - y0);
        if (w <= 0 || h <= 0) continue;
        const data = new Uint8Array(w * h);
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) data[y * w + x] = raster.get((x0 + x) * f, (y0 + y) * f);
        }
        await writeRegion(arr as never, x0, y0, w, h, data);
      }
    }
  }

  /** Waits for pending writes (shutdown, tests). */
  async settle(): Promise<void> {
    for (const [id, t] of this.timers) {
      clearTimeout(t);
      this.timers.delete(id);
      this.flush(id).catch(() => {}); // a failed write is awaited (and swallowed) in flushes below
    }
    await Promise.all([...this.flushes.values()]);
  }

  /** Cancels an image's scheduled write and waits for the one under way (before its files go). */
  async forget(imageId: string): Promise<void> {
    clearTimeout(this.timers.get(imageId));
    this.timers.delete(imageId);
    await this.flushes.get(imageId);
    this.flushes.delete(imageId);
  }
}
