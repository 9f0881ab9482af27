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
    this.log = new StrokeEntries(store.db);
    this.rasters = new ScribbleRasters({
      target: (id) => {
        const { width, height, dir, levels } = store.images.get(id);
        return { width, height, dir, levels };
      },
      lastSeq: (id) => this.log.lastSeq(id),
      drawings: (id) => this.log.drawings(id),
      everDrawn: (id) => this.log.everDrawn(id),
    });
  }

  entries(imageId: string, since = 0): LogEntry[] {
    return this.log.list(imageId, since);
  }

  entry(imageId: string, seq: number): LogEntry | null {
    return this.log.get(imageId, seq);
  }

  lastSeq(imageId: string): number {
    return this.log.lastSeq(imageId);
  }

  /**
   * Adds a drawing once per author and `ref`: the same again (a client resending after it lost
   * the acknowledgement) returns the entry it already made, with `fresh` false.
   */
  appendOnce(imageId: string, author: string, drawing: Drawing, ref?: string): { entry: LogEntry; fresh: boolean } {
    const known = ref === undefined ? null : this.log.byRef(imageId, author, ref);
    if (known) return { entry: known, fresh: false };
    const entry = this.log.append(imageId, author, drawing, ref);
    this.rasters.painted(imageId, entry.seq, drawing);
    return { entry, fresh: true };
  }

  /** Undo entries for `undo` and the drawings, in one transaction. */
  appendMany(imageId: string, author: string, undo: readonly number[], drawings: readonly Drawing[]): LogEntry[] {
    const entries = this.log.appendMany(imageId, author, undo, drawings);
    this.rasters.rebuild(imageId);
    return entries;
  }

  undoRedo(imageId: string, author: string, op: 'undo' | 'redo', target?: number): LogEntry {
    const entry = this.log.undoRedo(imageId, author, op, target);
    this.rasters.rebuild(imageId);
    return entry;
  }

  drawings(imageId: string): DrawEntry[] {
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

  hash(imageIds: readonly string[]): string {
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
