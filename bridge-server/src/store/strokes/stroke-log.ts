import type { DrawEntry, Drawing, LogEntry, Polygon, TracedStroke } from '@impartial/shared';
import type { Store } from '../store.js';
import { StrokeEntries } from './entries.js';
import { ScribbleRasters } from './rasters.js';

/**
 * Strokes of every image: the append-only log (on disk before a call returns), and the scribble
 * raster derived from it, painted, rebuilt and written (labels/scribbles) by a worker thread so
 * that no stroke, undo or restart holds up the bridge. Entries name an image that exists; the
 * callers (services) check that first.
 */
export class StrokeLog {
  private readonly log: StrokeEntries;
  private readonly rasters: ScribbleRasters;

  constructor(store: Store) {
    this.log = new StrokeEntries(store.db, store.dialect === 'postgres');
    this.rasters = new ScribbleRasters({
      target: async (id) => {
        const { width, height, dir, levels } = await store.images.get(id);
        return { width, height, dir, levels, ...store.files.taskSpec() };
      },
      lastSeq: (id) => this.log.lastSeq(id),
      drawings: (id) => this.log.drawings(id),
      everDrawn: (id) => this.log.everDrawn(id),
    });
  }

  entries(imageId: string, since = 0): Promise<LogEntry[]> {
    return this.log.list(imageId, since);
  }

  entry(imageId: string, seq: number): Promise<LogEntry | null> {
    return this.log.get(imageId, seq);
  }

  lastSeq(imageId: string): Promise<number> {
    return this.log.lastSeq(imageId);
  }

  /**
   * Adds a drawing once per author and `ref`: the same again (a client resending after it lost
   * the acknowledgement) returns the entry it already made, with `fresh` false.
   */
  async appendOnce(
    imageId: string,
    author: string,
    drawing: Drawing,
    ref?: string,
  ): Promise<{ entry: LogEntry; fresh: boolean }> {
    const known = ref === undefined ? null : await this.log.byRef(imageId, author, ref);
    if (known) return { entry: known, fresh: false };
    const entry = await this.log.append(imageId, author, drawing, ref);
    void this.rasters.painted(imageId, entry.seq, drawing);
    return { entry, fresh: true };
  }

  /** Undo entries for `undo` and the drawings (carrying `ref` when given), in one transaction. */
  async appendMany(
    imageId: string,
    author: string,
    undo: readonly number[],
    drawings: readonly Drawing[],
    ref?: string,
  ): Promise<LogEntry[]> {
    const entries = await this.log.appendMany(imageId, author, undo, drawings, ref);
    void this.rasters.rebuild(imageId);
    return entries;
  }

  /** The drawings an earlier request with this author and `ref` made (a client resending), or none. */
  byRef(imageId: string, author: string, ref: string): Promise<LogEntry[]> {
    return this.log.byRefAll(imageId, author, ref);
  }

  /** Undo or redo entries for a drawing and the rest of its request's drawings. */
  async undoRedo(imageId: string, author: string, op: 'undo' | 'redo', target?: number): Promise<LogEntry[]> {
    const entries = await this.log.undoRedo(imageId, author, op, target);
    void this.rasters.rebuild(imageId);
    return entries;
  }

  drawings(imageId: string): Promise<DrawEntry[]> {
    return this.log.drawings(imageId);
  }

  /** Pixels per class of the scribble raster as the log stands. */
  counts(imageId: string): Promise<Map<number, number>> {
    return this.rasters.counts(imageId);
  }

  /** Outlines as strokes (computed off the event loop). */
  outlines(polygons: Polygon[], width: number, height: number): Promise<TracedStroke[]> {
    return this.rasters.outlines(polygons, width, height);
  }

  hash(imageIds: readonly string[]): Promise<string> {
    return this.log.hash(imageIds);
  }

  flush(imageId: string): Promise<void> {
    return this.rasters.flush(imageId);
  }

  /** An image is gone: nothing of it stays cached, and no write of its raster is left under way. */
  forget(imageId: string): Promise<void> {
    return this.rasters.forget(imageId);
  }

  /** Waits for pending raster writes (shutdown, tests). */
  settle(): Promise<void> {
    return this.rasters.settle();
  }

  close(): Promise<void> {
    return this.rasters.close();
  }
}
