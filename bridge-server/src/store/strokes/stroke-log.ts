import type { DrawEntry, Drawing, LogEntry, SparseRaster } from '@impartial/shared';
import type { Store } from '../store.js';
import { StrokeEntries } from './entries.js';
import { ScribbleRasters } from './rasters.js';
import { ScribbleWriter } from './scribble-writer.js';

/**
 * Strokes of every image: the append-only log (on disk before a call returns), the scribble
 * raster derived from it, and its OME-Zarr copy (labels/scribbles) written tile by tile shortly
 * after. Entries name an image that exists; the callers (services) check that first.
 */
export class StrokeLog {
  private readonly log: StrokeEntries;
  private readonly rasters: ScribbleRasters;
  private readonly writer: ScribbleWriter;

  constructor(store: Store, flushDelayMs = 150) {
    this.log = new StrokeEntries(store.db);
    this.rasters = new ScribbleRasters({
      size: (id) => store.images.get(id),
      lastSeq: (id) => this.log.lastSeq(id),
      drawings: (id) => this.log.drawings(id),
      everDrawn: (id) => this.log.everDrawn(id),
    });
    this.writer = new ScribbleWriter(
      (id) => store.images.get(id),
      (id) => this.rasters.get(id),
      flushDelayMs,
    );
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
    this.writer.schedule(imageId);
    return { entry, fresh: true };
  }

  /** Undo entries for `undo` and the drawings, in one transaction. */
  appendMany(imageId: string, author: string, undo: readonly number[], drawings: readonly Drawing[]): LogEntry[] {
    const entries = this.log.appendMany(imageId, author, undo, drawings);
    this.changed(imageId);
    return entries;
  }

  undoRedo(imageId: string, author: string, op: 'undo' | 'redo', target?: number): LogEntry {
    const entry = this.log.undoRedo(imageId, author, op, target);
    this.changed(imageId);
    return entry;
  }

  private changed(imageId: string): void {
    this.rasters.rebuild(imageId);
    this.writer.schedule(imageId);
  }

  drawings(imageId: string): DrawEntry[] {
    return this.log.drawings(imageId);
  }

  raster(imageId: string): SparseRaster {
    return this.rasters.get(imageId);
  }

  hash(imageIds: readonly string[]): string {
    return this.log.hash(imageIds);
  }

  flush(imageId: string): Promise<void> {
    return this.writer.flush(imageId);
  }

  /** An image is gone: nothing of it stays cached. */
  forget(imageId: string): void {
    this.rasters.forget(imageId);
  }

  settle(): Promise<void> {
    return this.writer.settle();
  }
}
