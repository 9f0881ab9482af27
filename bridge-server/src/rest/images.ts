import { DrawingSchema } from '@impartial/shared';
import { z } from 'zod';
import { notFound } from '../errors.js';
import { nonNegativeInt as int, parseInput as parse } from '../http/input.js';
import { readJson, sendBytes, sendJson } from '../http/respond.js';
import type { RouteContext, Router } from '../http/router.js';
import { named } from '../services/index.js';
import { attachment } from './download.js';
import type { TransportOptions } from './options.js';

const Author = z.string().min(1).max(100);
const StrokeBody = z
  .object({ drawing: DrawingSchema, author: Author.optional(), ref: z.string().min(1).max(100).optional() })
  .strict();
const UndoBody = z.object({ author: Author.optional(), target: z.number().int().positive().optional() }).strict();
const PREDICTION_PARTS = ['labels', 'probability', 'entropy'] as const;

/** An image, its stroke log (draw, undo, redo), its scribble raster and image as TIFF, and its predictions' exports. */
export function registerImages(router: Router, o: TransportOptions): void {
  const { services } = o;
  // Scripts name the author of a stroke in the body or as ?author=.
  const author = (c: RouteContext, given?: string) => named(c.actor, given ?? c.url.searchParams.get('author'));
  const undoRedo = (op: 'undo' | 'redo') => async (c: RouteContext) => {
    const body = parse(UndoBody, await readJson(c.req, o.maxJsonBytes), op);
    // The named drawing's entry; an outline's other strokes, switched with it, are in the log after it.
    const [entry] = await services.strokes.undoRedo(author(c, body.author), c.params.image!, op, body.target);
    sendJson(c.res, 201, entry);
  };
  router
    .on('GET', '/api/images/:image', async ({ actor, res, params }) =>
      sendJson(res, 200, await services.images.record(actor, params.image!)),
    )
    .on('GET', '/api/images/:image/strokes', async ({ actor, res, params, url }) =>
      sendJson(
        res,
        200,
        await services.strokes.entries(actor, params.image!, int(url.searchParams.get('since'), 0, 'since')),
      ),
    )
    .on('POST', '/api/images/:image/strokes', async (c) => {
      const body = parse(StrokeBody, await readJson(c.req, o.maxJsonBytes), 'stroke');
      // With a `ref`, a retried POST (the response was lost) returns the entry it made: 200, not 201.
      const ref = body.ref !== undefined ? { ref: body.ref } : {};
      const { entry, fresh } = await services.strokes.draw(author(c, body.author), c.params.image!, body.drawing, ref);
      sendJson(c.res, fresh ? 201 : 200, entry);
    })
    .on('POST', '/api/images/:image/undo', undoRedo('undo'))
    .on('POST', '/api/images/:image/redo', undoRedo('redo'))
    .on('GET', '/api/images/:image/scribbles.tif', async ({ actor, res, params, url }) => {
      const level = int(url.searchParams.get('level'), 0, 'level');
      sendBytes(res, await services.images.scribblesTiff(actor, params.image!, level), 'image/tiff');
    })
    .on('GET', '/api/images/:image/image.tif', async ({ actor, res, params, url }) => {
      const level = url.searchParams.has('level') ? int(url.searchParams.get('level'), 0, 'level') : undefined;
      sendBytes(res, await services.images.tiff(actor, params.image!, level), 'image/tiff');
    })
    .on('GET', '/api/images/:image/predictions', async ({ actor, res, params }) =>
      sendJson(res, 200, await services.predictions.list(actor, params.image!)),
    )
    .on('GET', '/api/predictions/:image/:model/:file', async ({ actor, res, params, url }) => {
      const { image, model, file } = params as { image: string; model: string; file: string };
      if (file === 'rois') {
        const name = (await services.images.get(actor, image)).name;
        const zip = await services.predictions.outlines(actor, image, model, 'rois');
        return sendBytes(res, zip, 'application/zip', attachment(`${name}.rois.zip`));
      }
      if (file === 'geojson') {
        return sendBytes(
          res,
          await services.predictions.outlines(actor, image, model, 'geojson'),
          'application/geo+json',
        );
      }
      const part = PREDICTION_PARTS.find((p) => p === file);
      if (!part) throw notFound(`prediction export ${file} (choose rois, geojson, labels, probability or entropy)`);
      const level = int(url.searchParams.get('level'), 0, 'level');
      sendBytes(res, await services.predictions.tiff(actor, image, model, part, level), 'image/tiff');
    });
}
