import type { DrawEntry, Drawing, Polygon, TracedStroke } from '@impartial/shared';
import { RasterClient } from './raster-client.js';
import type { RasterRequest, RasterTarget } from './raster-messages.js';
import type { DistributiveOmit } from './types.js';

/** What the raster coordinator reads of an image and its log (on the bridge's thread: the database). */
export interface RasterSource {
  target(imageId: string): RasterTarget;
  lastSeq(imageId: string): number;
  drawings(imageId: string): DrawEntry[];
  everDrawn(imageId: string): DrawEntry[];
}

type PaintOrRebuild = DistributiveOmit<Extract<RasterRequest, { type: 'paint' | 'rebuild' }>, 'id'>;

const asDrawing = (d: DrawEntry): Drawing => ({ op: d.op, class: d.class, width: d.width, points: d.points });

/**
 * Keeps the raster worker's copy of each image's scribble raster in step with the log: a new
 * drawing right after the one the worker has is painted there; anything else (undo, redo, a
 * batch, a restart) sends the drawings in effect for a rebuild. Requests reach the worker in
 * order, so what this thread knows of the worker's state is what the worker will have, unless a
 * paint or rebuild fails: the worker then drops that raster and this thread forgets it too, so
 * the next use rebuilds it from the log.
 */
export class ScribbleRasters {
  /** Per image, the log sequence the worker's raster is at (absent: the worker holds none). */
  private readonly workerSeq = new Map<string, number>();
  private readonly worker = new RasterClient(() => this.workerSeq.clear());

  constructor(private readonly log: RasterSource) {}

  /** A drawing just appended as entry `seq`. */
  painted(imageId: string, seq: number, drawing: Drawing): void {
    if (this.workerSeq.get(imageId) === seq - 1) {
      this.workerSeq.set(imageId, seq);
      this.send(imageId, { type: 'paint', image: imageId, target: this.log.target(imageId), seq, drawing });
    } else {
      this.rebuild(imageId);
    }
  }

  /** The log changed other than by one new drawing: the worker rebuilds from the drawings in effect. */
  rebuild(imageId: string): void {
    const first = !this.workerSeq.has(imageId);
    const seq = this.log.lastSeq(imageId);
    this.workerSeq.set(imageId, seq);
    this.send(imageId, {
      type: 'rebuild',
      image: imageId,
      target: this.log.target(imageId),
      seq,
      drawings: this.log.drawings(imageId).map(asDrawing),
      everDrawn: first ? this.log.everDrawn(imageId).map(asDrawing) : null,
    });
  }

  /** A paint or rebuild nobody waits for; if it fails, the raster is rebuilt on its next use. */
  private send(imageId: string, request: PaintOrRebuild): void {
    this.worker.ask(request).catch((e: Error) => {
      process.stderr.write(`raster worker: image ${imageId}: ${e.message}\n`);
      this.workerSeq.delete(imageId);
    });
  }

  private current(imageId: string): void {
    if (this.workerSeq.get(imageId) !== this.log.lastSeq(imageId)) this.rebuild(imageId);
  }

  /** Pixels per class of the raster as the log stands. */
  async counts(imageId: string): Promise<Map<number, number>> {
    this.current(imageId);
    return new Map((await this.worker.ask({ type: 'counts', image: imageId })).counts);
  }

  /** Writes the raster's changed tiles into labels/scribbles now. */
  async flush(imageId: string): Promise<void> {
    this.current(imageId);
    await this.worker.ask({ type: 'flush', image: imageId });
  }

  /** Waits for every pending raster write (shutdown, tests). */
  async settle(): Promise<void> {
    await this.worker.ask({ type: 'settle' });
  }

  /** Drops an image's raster once its pending writes are done (before its files are removed). */
  async forget(imageId: string): Promise<void> {
    this.workerSeq.delete(imageId);
    await this.worker.ask({ type: 'forget', image: imageId });
  }

  /** Outlines as strokes, computed in the worker. */
  async outlines(polygons: Polygon[], width: number, height: number): Promise<TracedStroke[]> {
    return (await this.worker.ask({ type: 'outlines', polygons, width, height })).strokes ?? [];
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}
