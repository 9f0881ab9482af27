import { type DrawEntry, type Drawing, rasterizeDrawings, type SparseRaster } from '@impartial/shared';

interface CachedRaster {
  raster: SparseRaster;
  seq: number;
}

/** What the raster cache reads of an image's log. */
export interface RasterSource {
  size(imageId: string): { width: number; height: number };
  lastSeq(imageId: string): number;
  drawings(imageId: string): DrawEntry[];
  everDrawn(imageId: string): DrawEntry[];
}

/**
 * The scribble raster of each image, derived from its log and kept in memory: a new drawing is
 * painted onto it, anything else (undo, redo, a batch) rebuilds it. Tiles that changed are marked
 * dirty for the writer.
 */
export class ScribbleRasters {
  private readonly cache = new Map<string, CachedRaster>();

  constructor(private readonly log: RasterSource) {}

  /** A drawing just appended as entry `seq`: painted at once when the cache is up to date. */
  painted(imageId: string, seq: number, drawing: Drawing): void {
    const cached = this.cache.get(imageId);
    if (cached && cached.seq === seq - 1) {
      cached.raster.paint(drawing.points, drawing.width, drawing.op === 'add' ? drawing.class : 0);
      cached.seq = seq;
    } else {
      this.cache.delete(imageId);
    }
  }

  /** The raster of the log as it stands. */
  get(imageId: string): SparseRaster {
    const cached = this.cache.get(imageId);
    if (cached && cached.seq === this.log.lastSeq(imageId)) return cached.raster;
    return this.rebuild(imageId);
  }

  rebuild(imageId: string): SparseRaster {
    const { width, height } = this.log.size(imageId);
    const old = this.cache.get(imageId);
    const raster = rasterizeDrawings(this.log.drawings(imageId), width, height);
    // Tiles painted before may be empty now: they must be rewritten too.
    raster.markAllDirty(old ? old.raster.tileCoordinates() : []);
    raster.markAllDirty(raster.tileCoordinates());
    if (!old) raster.markAllDirty(this.tilesEverPainted(imageId, width, height));
    this.cache.set(imageId, { raster, seq: this.log.lastSeq(imageId) });
    return raster;
  }

  /** Every tile any drawing of the log touched (also undone ones), for a rewrite after restart. */
  private tilesEverPainted(imageId: string, width: number, height: number): Array<[number, number]> {
    const all = this.log.everDrawn(imageId).map((d) => ({ ...d, op: 'add' as const, class: 1 }));
    return rasterizeDrawings(all, width, height).tileCoordinates();
  }

  forget(imageId: string): void {
    this.cache.delete(imageId);
  }
}
