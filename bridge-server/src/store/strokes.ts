import { createHash } from 'node:crypto';
import {
  activeDrawings,
  createOmeZarrLabels,
  type DrawEntry,
  type Drawing,
  type LogEntry,
  LogEntrySchema,
  openArray,
  rasterizeDrawings,
  type SparseRaster,
  undoRedoTarget,
  writeRegion,
} from '@impartial/shared';
import { FileSystemStore } from '@impartial/shared/node';
import { BridgeError } from './errors.js';
import type { Store } from './store.js';

/** Scribble label colours: cell green, background magenta (as the viewer draws them). */
export const SCRIBBLE_COLORS: Array<{ 'label-value': number; rgba: [number, number, number, number] }> = [
  { 'label-value': 1, rgba: [0, 255, 0, 255] },
  { 'label-value': 2, rgba: [255, 0, 255, 255] },
];

/** Adds labels/scribbles (empty) to a freshly imported image. */
export async function createScribbleLabels(dir: string, width: number, height: number): Promise<void> {
  await createOmeZarrLabels(new FileSystemStore(dir), 'scribbles', width, height, '|u1', 256, SCRIBBLE_COLORS);
}

interface CachedRaster {
  raster: SparseRaster;
  seq: number;
}

const refKey = (author: string, ref: string) => `${author}\u0000${ref}`;

/**
 * The append-only stroke log of every image, and the scribble raster derived from it. `append`
 * returns only after the entry is committed to disk; the raster and its OME-Zarr copy
 * (labels/scribbles) follow, written tile by tile shortly after.
 */
export class StrokeLog {
  private readonly rasters = new Map<string, CachedRaster>();
  private readonly flushes = new Map<string, Promise<void>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Per image, the entry each (author, drawing ref) became (built from the log on first use). */
  private readonly refs = new Map<string, Map<string, number>>();

  constructor(
    private readonly store: Store,
    private readonly flushDelayMs = 150,
  ) {}

  entries(imageId: string, since = 0): LogEntry[] {
    return (
      this.store.db
        .prepare('SELECT entry FROM strokes WHERE image = ? AND seq > ? ORDER BY seq')
        .all(imageId, since) as Array<{ entry: string }>
    ).map((r) => JSON.parse(r.entry) as LogEntry);
  }

  /** One entry of the log, or null. */
  entry(imageId: string, seq: number): LogEntry | null {
    const r = this.store.db.prepare('SELECT entry FROM strokes WHERE image = ? AND seq = ?').get(imageId, seq) as
      | { entry: string }
      | undefined;
    return r ? (JSON.parse(r.entry) as LogEntry) : null;
  }

  lastSeq(imageId: string): number {
    return (
      (this.store.db.prepare('SELECT MAX(seq) AS s FROM strokes WHERE image = ?').get(imageId) as { s: number | null })
        .s ?? 0
    );
  }

  private insert(imageId: string, make: (seq: number) => LogEntry): LogEntry {
    return this.store.db.transaction(() => {
      const entry = LogEntrySchema.parse(make(this.lastSeq(imageId) + 1));
      this.store.db
        .prepare('INSERT INTO strokes (image, seq, entry) VALUES (?, ?, ?)')
        .run(imageId, entry.seq, JSON.stringify(entry));
      return entry;
    })();
  }

  /**
   * Adds a drawing once per author and `ref`: the same again (a client resending after it lost
   * the acknowledgement) returns the entry it already made, with `fresh` false.
   */
  appendOnce(imageId: string, author: string, drawing: Drawing, ref?: string): { entry: LogEntry; fresh: boolean } {
    if (ref !== undefined) {
      const seq = this.refsOf(imageId).get(refKey(author, ref));
      const known = seq === undefined ? undefined : this.entry(imageId, seq);
      if (known) return { entry: known, fresh: false };
    }
    return { entry: this.append(imageId, author, drawing, ref), fresh: true };
  }

  private refsOf(imageId: string): Map<string, number> {
    let refs = this.refs.get(imageId);
    if (!refs) {
      refs = new Map();
      for (const e of this.entries(imageId)) if (e.ref !== undefined) refs.set(refKey(e.author, e.ref), e.seq);
      this.refs.set(imageId, refs);
    }
    return refs;
  }

  /** Adds a drawing; on disk when this returns. */
  append(imageId: string, author: string, drawing: Drawing, ref?: string): LogEntry {
    this.store.image(imageId);
    const entry = this.insert(imageId, (seq) => ({
      seq,
      author,
      t: Date.now(),
      op: drawing.op,
      class: drawing.class,
      width: drawing.width,
      points: drawing.points,
      ...(ref !== undefined ? { ref } : {}),
    }));
    if (ref !== undefined) this.refs.get(imageId)?.set(refKey(author, ref), entry.seq);
    const cached = this.rasters.get(imageId);
    if (cached && cached.seq === entry.seq - 1) {
      cached.raster.paint(drawing.points, drawing.width, drawing.op === 'add' ? drawing.class : 0);
      cached.seq = entry.seq;
    } else {
      this.rasters.delete(imageId);
    }
    this.scheduleFlush(imageId);
    return entry;
  }

  /**
   * Many entries in one transaction (one disk sync): an ROI set of hundreds of cells arrives as
   * thousands of strokes, and each its own sync would hold up the bridge for seconds.
   */
  appendMany(imageId: string, author: string, undo: readonly number[], drawings: readonly Drawing[]): LogEntry[] {
    this.store.image(imageId);
    const entries = this.store.db.transaction(() => {
      const active = new Set(activeDrawings(this.entries(imageId)).map((d) => d.seq));
      const out: LogEntry[] = [];
      for (const target of undo) {
        if (!active.has(target)) throw new BridgeError('conflict', `entry ${target} is not a drawing in effect`);
        out.push(this.insert(imageId, (seq) => ({ seq, author, t: Date.now(), op: 'undo', target })));
      }
      for (const d of drawings)
        out.push(
          this.insert(imageId, (seq) => ({
            seq,
            author,
            t: Date.now(),
            op: d.op,
            class: d.class,
            width: d.width,
            points: d.points,
          })),
        );
      return out;
    })();
    this.rebuild(imageId);
    this.scheduleFlush(imageId);
    return entries;
  }

  /** Undo (or redo) `target`, or the author's latest drawing (undo) or undo (redo). */
  undoRedo(imageId: string, author: string, op: 'undo' | 'redo', target?: number): LogEntry {
    this.store.image(imageId);
    const entry = this.store.db.transaction(() => {
      const log = this.entries(imageId);
      const active = new Set(activeDrawings(log).map((d) => d.seq));
      const t = target ?? undoRedoTarget(log, author, op);
      if (t === null || t === undefined)
        throw new BridgeError(
          'conflict',
          op === 'undo' ? `nothing of ${author}'s to undo` : `nothing of ${author}'s to redo`,
        );
      const drawn = log.find((e) => e.seq === t && (e.op === 'add' || e.op === 'erase'));
      if (!drawn) throw new BridgeError('not-found', `entry ${t} is not a drawing of this image`);
      if (op === 'undo' && !active.has(t)) throw new BridgeError('conflict', `entry ${t} is already undone`);
      if (op === 'redo' && active.has(t)) throw new BridgeError('conflict', `entry ${t} is in effect; nothing to redo`);
      return this.insert(imageId, (seq) => ({ seq, author, t: Date.now(), op, target: t! }));
    })();
    this.rebuild(imageId);
    this.scheduleFlush(imageId);
    return entry;
  }

  drawings(imageId: string): DrawEntry[] {
    return activeDrawings(this.entries(imageId));
  }

  /** The scribble raster of the log as it stands. */
  raster(imageId: string): SparseRaster {
    const cached = this.rasters.get(imageId);
    const seq = this.lastSeq(imageId);
    if (cached && cached.seq === seq) return cached.raster;
    return this.rebuild(imageId).raster;
  }

  private rebuild(imageId: string): CachedRaster {
    const image = this.store.image(imageId);
    const old = this.rasters.get(imageId);
    const raster = rasterizeDrawings(this.drawings(imageId), image.width, image.height);
    // Tiles painted before may be empty now: they must be rewritten too.
    raster.markAllDirty(old ? old.raster.tileCoordinates() : []);
    raster.markAllDirty(raster.tileCoordinates());
    if (!old) raster.markAllDirty(this.tilesEverPainted(imageId));
    const cached = { raster, seq: this.lastSeq(imageId) };
    this.rasters.set(imageId, cached);
    return cached;
  }

  /** Every tile any drawing of the log touched (also undone ones), for a rewrite after restart. */
  private tilesEverPainted(imageId: string): Array<[number, number]> {
    const image = this.store.image(imageId);
    const all = this.entries(imageId).filter((e): e is DrawEntry => e.op === 'add' || e.op === 'erase');
    return rasterizeDrawings(
      all.map((d) => ({ ...d, op: 'add' as const, class: 1 })),
      image.width,
      image.height,
    ).tileCoordinates();
  }

  /** Hash of what the given images' logs hold in effect (model lineage). */
  hash(imageIds: readonly string[]): string {
    const h = createHash('sha256');
    for (const id of [...imageIds].sort()) h.update(id).update(JSON.stringify(this.drawings(id)));
    return h.digest('hex').slice(0, 16);
  }

  private scheduleFlush(imageId: string): void {
    if (this.timers.has(imageId)) return;
    this.timers.set(
      imageId,
      setTimeout(() => {
        this.timers.delete(imageId);
        void this.flush(imageId).catch(() => {});
      }, this.flushDelayMs),
    );
  }

  /** Writes changed tiles of the raster into labels/scribbles (every pyramid level). Serialised per image. */
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
    const image = this.store.image(imageId);
    const raster = this.raster(imageId);
    const dirty = raster.takeDirty();
    if (dirty.length === 0) return;
    const store = new FileSystemStore(image.dir);
    const T = raster.tile;
    for (let level = 0; level < image.levels; level++) {
      const arr = await openArray(store, `labels/scribbles/${level}`);
      const [H, W] = arr.shape.slice(-2) as [number, number];
      const chunks = new Set(dirty.map(([tx, ty]) => `${tx >> level},${ty >> level}`));
      for (const key of chunks) {
        const [cx, cy] = key.split(',').map(Number) as [number, number];
        const x0 = cx * T,
          y0 = cy * T,
          w = Math.min(T, W - x0),
          h = Math.min(T, H - y0);
        if (w <= 0 || h <= 0) continue;
        const data = new Uint8Array(w * h);
        const f = 2 ** level;
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++) data[y * w + x] = raster.get((x0 + x) * f, (y0 + y) * f);
        await writeRegion(arr as never, x0, y0, w, h, data);
      }
    }
  }

  /** Waits for pending raster writes (shutdown, tests). */
  async settle(): Promise<void> {
    for (const [id, t] of this.timers) {
      clearTimeout(t);
      this.timers.delete(id);
      void this.flush(id);
    }
    await Promise.all([...this.flushes.values()]);
  }
}
