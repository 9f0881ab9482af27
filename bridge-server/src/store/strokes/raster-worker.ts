import { parentPort } from 'node:worker_threads';
import { type Drawing, outlinesToStrokes, rasterizeDrawings, type SparseRaster } from '@impartial/shared';
import type { RasterReply, RasterRequest, RasterTarget } from './raster-messages.js';
import { ScribbleWriter } from './scribble-writer.js';

/*
 * The raster worker: holds the scribble raster of every image in use, paints new strokes onto
 * it, rebuilds it after an undo, redo or batch, writes its changed tiles into labels/scribbles,
 * and converts outlines into strokes. The bridge's event loop never waits on any of that.
 */

const port = parentPort!;
const rasters = new Map<string, { raster: SparseRaster; target: RasterTarget }>();
const writer = new ScribbleWriter((image) => rasters.get(image) ?? null);

const withClass = (d: Drawing) => (d.op === 'add' ? d.class : 0);

/** A raster half painted or half rebuilt is wrong: a failure drops it (the bridge then rebuilds it). */
function changing(image: string, change: () => void): void {
  try {
    change();
  } catch (e) {
    rasters.delete(image);
    throw e;
  }
}

function rebuild(image: string, target: RasterTarget, drawings: Drawing[], everDrawn: Drawing[] | null): void {
  const old = rasters.get(image);
  const raster = rasterizeDrawings(drawings, target.width, target.height);
  // Tiles painted before may be empty now: they must be rewritten too.
  raster.markAllDirty(old ? old.raster.tileCoordinates() : []);
  raster.markAllDirty(raster.tileCoordinates());
  if (everDrawn) {
    const all = everDrawn.map((d) => ({ ...d, op: 'add' as const, class: 1 }));
    raster.markAllDirty(rasterizeDrawings(all, target.width, target.height).tileCoordinates());
  }
  rasters.set(image, { raster, target });
  writer.schedule(image);
}

async function handle(m: RasterRequest): Promise<Omit<Extract<RasterReply, { ok: true }>, 'id' | 'ok'>> {
  switch (m.type) {
    case 'paint': {
      const held = rasters.get(m.image);
      if (!held) throw new Error(`no raster of image ${m.image} to paint on`);
      changing(m.image, () => held.raster.paint(m.drawing.points, m.drawing.width, withClass(m.drawing)));
      writer.schedule(m.image);
      return {};
    }
    case 'rebuild':
      changing(m.image, () => rebuild(m.image, m.target, m.drawings, m.everDrawn));
      return {};
    case 'counts': {
      const held = rasters.get(m.image);
      // None held: an earlier paint or rebuild failed, and the bridge rebuilds before asking again.
      if (!held) throw new Error(`no raster of image ${m.image}: it is rebuilt on the next request`);
      return { counts: [...held.raster.counts()] };
    }
    case 'flush':
      if (rasters.has(m.image)) await writer.flush(m.image);
      return {};
    case 'settle':
      await writer.settle();
      return {};
    case 'forget':
      await writer.forget(m.image);
      rasters.delete(m.image);
      return {};
    case 'outlines':
      return { strokes: outlinesToStrokes(m.polygons, m.width, m.height) };
  }
}

port.on('message', (m: RasterRequest) => {
  handle(m).then(
    (answer) => port.postMessage({ id: m.id, ok: true, ...answer } satisfies RasterReply),
    (e: Error) => port.postMessage({ id: m.id, ok: false, message: e.message } satisfies RasterReply),
  );
});
