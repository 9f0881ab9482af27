import type { DrawEntry, Drawing, Polygon, TracedStroke } from '@impartial/shared';
import { SerialQueue } from '../../keyed-queue.js';
import { RasterClient } from './raster-client.js';
import type { RasterRequest, RasterTarget } from './raster-messages.js';
import type { DistributiveOmit } from './types.js';

/** What the raster coordinator reads of an image and its log (on the bridge's thread: the database). */
export interface RasterSource {
  target(imageId: string): Promise<RasterTarget>;
  lastSeq(imageId: string): Promise<number>;
  drawings(imageId: string): Promise<DrawEntry[]>;
  everDrawn(imageId: string): Promise<DrawEntry[]>;
}

type PaintOrRebuild = DistributiveOmit<Extract<RasterRequest, { type: 'paint' | 'rebuild' }>, 'id'>;

const asDrawing = (d: DrawEntry): Drawing => ({ op: d.op, class: d.class, width: d.width, points: d.points });

/**
 * Keeps the raster worker's copy of each image's scribble raster in step with the log: a new
 * drawing right after the one the worker has is painted there; anything else (undo, redo, a
 * batch, a restart) sends the drawings in effect for a rebuild. Requests reach the worker in
 * order, so what this thread knows of the worker's state is what the worker will have, unless a
 * paint or rebuild fails: the worker then drops that raster and this thread forgets it too, so
 * the next use rebuilds it from the log. Steps that read the log run one after another, so what
 * they send reaches the worker in the order they were asked for.
 */
export class ScribbleRasters {
  /** Per image, the log sequence the worker's raster is at (absent: the worker holds none). */
  private readonly workerSeq = new Map<string, number>();
  private readonly worker = new RasterClient(() => this.workerSeq.clear());
  private readonly steps = new SerialQueue();

  constructor(private readonly log: RasterSource) {}

  /** Runs `fn` after every step asked for before; a step that fails is logged and its raster forgotten. */
  private step(imageId: string, fn: () => Promise<void>): Promise<void> {
    return this.steps.run(() =>
      fn().catch((e: Error) => {
        process.stderr.write(`scribble raster: image ${imageId}: ${e.message}\n`);
        this.workerSeq.delete(imageId);
      }),
    );
  }

  /** A drawing just appended as entry `seq`. */
  painted(imageId: string, seq: number, drawing: Drawing): Promise<void> {
    return this.step(imageId, async () => {
      if (this.workerSeq.get(imageId) !== seq - 1) return this.rebuildNow(imageId);
      this.workerSeq.set(imageId, seq);
      const target = await this.log.target(imageId);
      this.send(imageId, { type: 'paint', image: imageId, target, seq, drawing });
    });
  }

  /** The log changed other than by one new drawing: the worker rebuilds from the drawings in effect. */
  rebuild(imageId: string): Promise<void> {
    return this.step(imageId, () => this.rebuildNow(imageId));
  }

  private async rebuildNow(imageId: string): Promise<void> {
    const first = !this.workerSeq.has(imageId);
    const [seq, target, drawings, everDrawn] = await Promise.all([
      this.log.lastSeq(imageId),
      this.log.target(imageId),
      this.log.drawings(imageId),
      first ? await this.log.everDrawn(imageId) : null,
    ]);
    this.workerSeq.set(imageId, seq);
    this.send(imageId, {
      type: 'rebuild',
      image: imageId,
      target,
      seq,
      drawings: drawings.map(asDrawing),
      everDrawn: everDrawn?.map(asDrawing) ?? null,
    });
  }

  /** A paint or rebuild nobody waits for; if it fails, the raster is rebuilt on its next use. */
  private send(imageId: string, request: PaintOrRebuild): void {
    this.worker.ask(request).catch((e: Error) => {
      process.stderr.write(`raster worker: image ${imageId}: ${e.message}\n`);
      this.workerSeq.delete(imageId);
    });
  }

  /** Brings the worker's raster to the log as it stands. */
  private current(imageId: string): Promise<void> {
    return this.step(imageId, async () => {
      if (this.workerSeq.get(imageId) !== (await this.log.lastSeq(imageId))) await this.rebuildNow(imageId);
    });
  }

  /** Pixels per class of the raster as the log stands. */
  async counts(imageId: string): Promise<Map<number, number>> {
    await this.current(imageId);
    return new Map((await this.worker.ask({ type: 'counts', image: imageId })).counts);
  }

  /** Writes the raster's changed tiles into labels/scribbles now. */
  async flush(imageId: string): Promise<void> {
    await this.current(imageId);
    await this.worker.ask({ type: 'flush', image: imageId });
  }

  /** Waits for every pending raster write (shutdown, tests). */
  async settle(): Promise<void> {
    await this.steps.idle();
    await this.worker.ask({ type: 'settle' });
  }

  /** Drops an image's raster once its pending writes are done (before its files are removed). */
  async forget(imageId: string): Promise<void> {
    await this.steps.idle();
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
