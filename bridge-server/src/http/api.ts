import { readFile, realpath, rm } from 'node:fs/promises';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DrawingSchema, IdSchema, InferRequestSchema, PROTOCOL_VERSION, TrainRequestSchema } from '@impartial/shared';
import { z } from 'zod';
import type { BridgeContext } from '../hub/connection.js';
import { BridgeError } from '../store/errors.js';
import {
  exportLevel,
  imageTiff,
  type PredictionPart,
  predictionOutlines,
  predictionTiff,
  scribblesTiff,
} from '../store/exports.js';
import { importImage } from '../store/import.js';
import { type OpenedSource, openOmeZarrSource, openSourcePath, openTiffSource, pngSource } from '../store/sources.js';
import { Store } from '../store/store.js';
import { nonNegativeInt as int, parseInput as parse } from './input.js';
import { readJson, sendBytes, sendJson } from './respond.js';
import type { RouteContext, Router } from './router.js';
import { serveFile } from './static-files.js';
import { receiveUpload } from './uploads.js';

export interface ApiOptions {
  /** Folders a client may import images from by path. */
  importRoots: string[];
  maxUploadBytes: number;
  maxJsonBytes: number;
}

const ProjectBody = z.object({ name: z.string().min(1).max(200), id: IdSchema.optional() }).strict();
const ImportBody = z
  .object({
    path: z.string().min(1).max(4096).optional(),
    url: z.string().url().max(4096).optional(),
    name: z.string().min(1).max(200).optional(),
  })
  .strict()
  .refine((b) => (b.path === undefined) !== (b.url === undefined), 'give exactly one of path or url');
const StrokeBody = z
  .object({
    drawing: DrawingSchema,
    author: z.string().min(1).max(100).optional(),
    ref: z.string().min(1).max(100).optional(),
  })
  .strict();
const UndoBody = z
  .object({ author: z.string().min(1).max(100).optional(), target: z.number().int().positive().optional() })
  .strict();
const CurrentBody = z.object({ model: IdSchema }).strict();

/** A server-side path a client asked to import: only inside the import roots, also after symlinks. */
async function containedImportPath(requested: string, roots: readonly string[]): Promise<string> {
  if (requested.includes('\0')) throw new BridgeError('bad-request', 'path contains a NUL byte');
  const resolved = await realpath(path.resolve(requested)).catch(() => null);
  if (!resolved) throw new BridgeError('not-found', `${requested} does not exist`);
  for (const root of roots) {
    const r = await realpath(root).catch(() => null);
    if (!r) continue;
    const rel = path.relative(r, resolved);
    if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))) return resolved;
  }
  throw new BridgeError(
    'forbidden',
    `${requested} is outside the folders this bridge imports from (${roots.join(', ')}; add one with --import-root)`,
  );
}

export function registerApi(router: Router, ctx: BridgeContext, o: ApiOptions): void {
  const { store, strokes, jobs } = ctx;
  // How long callbacks wait to run: the figure that says whether training starves the bridge.
  const LAG_RESOLUTION_MS = 10;
  const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  lag.enable();
  const author = (c: RouteContext, given?: string) => given ?? c.url.searchParams.get('author') ?? 'web';

  router
    .on('GET', '/api/info', ({ res }) =>
      sendJson(res, 200, { name: 'impartial-bridge', version: ctx.version, protocol: PROTOCOL_VERSION }),
    )
    .on('GET', '/api/health', ({ res, url }) => {
      // The histogram holds timer intervals; the lag is what they overran the sampling period by.
      const ms = (ns: number) => Math.max(0, Math.round(ns / 1e4) / 100 - LAG_RESOLUTION_MS);
      sendJson(res, 200, {
        uptimeSeconds: Math.round(process.uptime()),
        jobs: jobs.active().map((j) => ({ id: j.id, kind: j.kind })),
        eventLoopLagMs: {
          p50: ms(lag.percentile(50)),
          p99: ms(lag.percentile(99)),
          max: ms(lag.max),
          samples: lag.count,
        },
      });
      if (url.searchParams.get('reset')) lag.reset();
    })
    .on('GET', '/api/projects', ({ res }) => sendJson(res, 200, store.projects()))
    .on('POST', '/api/projects', async ({ req, res }) => {
      const body = parse(ProjectBody, await readJson(req, o.maxJsonBytes), 'project');
      sendJson(res, 201, store.createProject(body.name, body.id));
    })
    .on('GET', '/api/projects/:project', ({ res, params }) => {
      const p = store.project(params.project!);
      sendJson(res, 200, {
        ...p,
        images: store.images(p.id).map(Store.publicImage),
        models: store.models(p.id),
        jobs: store.jobs(p.id),
      });
    })
    .on('GET', '/api/imports', ({ res, url }) =>
      sendJson(res, 200, store.imports.list(url.searchParams.get('project') ?? undefined)),
    )
    .on('POST', '/api/projects/:project/images', async ({ req, res, params, url }) => {
      const project = store.project(params.project!).id;
      let source: OpenedSource,
        name: string,
        cleanup = async () => {};
      if ((req.headers['content-type'] ?? '').startsWith('application/json')) {
        const body = parse(ImportBody, await readJson(req, o.maxJsonBytes), 'import');
        if (body.url !== undefined) {
          if (!/^https?:\/\//i.test(body.url))
            throw new BridgeError('bad-request', 'url must be http(s) (an OME-Zarr image)');
          source = await openOmeZarrSource(body.url);
          name =
            body.name ??
            path.basename(new URL(body.url).pathname.replace(/\/+$/, '')).replace(/\.ome\.zarr$|\.zarr$/i, '');
        } else {
          const file = await containedImportPath(body.path!, o.importRoots);
          source = await openSourcePath(file);
          name = body.name ?? path.basename(file).replace(/\.(ome\.)?(tiff?|zarr|png)$/i, '');
        }
      } else {
        const upload = await receiveUpload(req, store.layout.temp, o.maxUploadBytes);
        cleanup = () => rm(upload.file, { force: true });
        try {
          source =
            upload.type === 'tiff'
              ? await openTiffSource(upload.file)
              : pngSource(new Uint8Array(await readFile(upload.file)), 'upload');
        } catch (e) {
          await cleanup();
          throw e;
        }
        name = url.searchParams.get('name') ?? `image-${new Date().toISOString().slice(0, 19)}`;
      }
      try {
        const image = await importImage(store, source, { project, name: name || 'image' });
        sendJson(res, 201, Store.publicImage(image));
      } finally {
        await source.close();
        await cleanup();
      }
    })
    .on('GET', '/api/images/:image', ({ res, params }) =>
      sendJson(res, 200, Store.publicImage(store.image(params.image!))),
    )
    .on('GET', '/api/images/:image/strokes', ({ res, params, url }) => {
      const image = store.image(params.image!);
      sendJson(res, 200, {
        seq: strokes.lastSeq(image.id),
        entries: strokes.entries(image.id, int(url.searchParams.get('since'), 0, 'since')),
      });
    })
    .on('POST', '/api/images/:image/strokes', async (c) => {
      const body = parse(StrokeBody, await readJson(c.req, o.maxJsonBytes), 'stroke');
      const image = store.image(c.params.image!);
      // With a `ref`, a retried POST (the response was lost) returns the entry it made: 200, not 201.
      const { entry, fresh } = strokes.appendOnce(image.id, author(c, body.author), body.drawing, body.ref);
      if (fresh) ctx.hub.entry(image.id, entry);
      sendJson(c.res, fresh ? 201 : 200, entry);
    })
    .on('POST', '/api/images/:image/undo', async (c) => undoRedo(c, 'undo'))
    .on('POST', '/api/images/:image/redo', async (c) => undoRedo(c, 'redo'))
    .on('GET', '/api/images/:image/scribbles.tif', async ({ res, params, url }) => {
      const image = store.image(params.image!);
      await strokes.flush(image.id);
      sendBytes(res, await scribblesTiff(image, int(url.searchParams.get('level'), 0, 'level')), 'image/tiff');
    })
    .on('GET', '/api/images/:image/image.tif', async ({ res, params, url }) => {
      const image = store.image(params.image!);
      sendBytes(
        res,
        await imageTiff(image, int(url.searchParams.get('level'), exportLevel(image), 'level')),
        'image/tiff',
      );
    })
    .on('GET', '/api/images/:image/predictions', ({ res, params }) =>
      sendJson(res, 200, store.predictions(store.image(params.image!).id)),
    )
    .on('GET', '/api/predictions/:image/:model/:file', async ({ res, params, url }) => {
      const image = store.image(params.image!);
      const file = params.file!;
      const level = int(url.searchParams.get('level'), 0, 'level');
      if (file === 'rois')
        return sendBytes(res, await predictionOutlines(store, image, params.model!, 'rois'), 'application/zip', {
          'Content-Disposition': `attachment; filename="${image.name}.rois.zip"`,
        });
      if (file === 'geojson')
        return sendBytes(res, await predictionOutlines(store, image, params.model!, 'geojson'), 'application/geo+json');
      if (file === 'labels' || file === 'probability' || file === 'entropy')
        return sendBytes(
          res,
          await predictionTiff(store, image, params.model!, level, file as PredictionPart),
          'image/tiff',
        );
      throw new BridgeError(
        'not-found',
        `prediction export ${file} (choose rois, geojson, labels, probability or entropy)`,
      );
    })
    .on('POST', '/api/projects/:project/train', async (c) => {
      const body = parse(TrainRequestSchema, await readJson(c.req, o.maxJsonBytes), 'train');
      sendJson(c.res, 202, jobs.startTrain(store.project(c.params.project!).id, body, author(c)));
    })
    .on('POST', '/api/infer', async ({ req, res }) => {
      const body = parse(InferRequestSchema, await readJson(req, o.maxJsonBytes), 'infer');
      sendJson(res, 202, jobs.startInfer(body));
    })
    .on('GET', '/api/projects/:project/jobs', ({ res, params }) =>
      sendJson(res, 200, store.jobs(store.project(params.project!).id)),
    )
    .on('GET', '/api/jobs/:job', ({ res, params }) =>
      sendJson(res, 200, { ...store.job(params.job!), log: store.jobLog(params.job!) }),
    )
    .on('DELETE', '/api/jobs/:job', ({ res, params }) => sendJson(res, 202, jobs.cancel(params.job!)))
    .on('GET', '/api/projects/:project/models', ({ res, params }) =>
      sendJson(res, 200, store.models(store.project(params.project!).id)),
    )
    .on('GET', '/api/models/:model', ({ res, params }) => sendJson(res, 200, store.model(params.model!)))
    .on('GET', '/api/models/:model/files/*', async ({ req, res, params, rest }) => {
      const model = store.model(params.model!);
      if (!['model.json', 'weights.bin', 'loss.svg'].includes(rest))
        throw new BridgeError('not-found', `model file ${rest} (choose model.json, weights.bin or loss.svg)`);
      await serveFile(req, res, store.layout.model(model.id), rest);
    })
    .on('PUT', '/api/projects/:project/current', async ({ req, res, params }) => {
      const body = parse(CurrentBody, await readJson(req, o.maxJsonBytes), 'current model');
      const project = store.project(params.project!);
      const model = store.model(body.model);
      if (model.project !== project.id)
        throw new BridgeError('bad-request', `model ${model.id} belongs to project ${model.project}`);
      store.setCurrentModel(project.id, model.id);
      ctx.hub.toProject(project.id, { type: 'model', model, current: true });
      sendJson(res, 200, store.project(project.id));
    })
    .on('GET', '/zarr/images/:image/*', async ({ req, res, params, rest }) =>
      serveFile(req, res, store.image(params.image!).dir, rest),
    )
    .on('GET', '/zarr/predictions/:image/:model/*', async ({ req, res, params, rest }) => {
      const image = store.image(params.image!);
      if (!store.prediction(image.id, params.model!))
        throw new BridgeError('not-found', `image ${image.id} has no prediction by model ${params.model}`);
      await serveFile(req, res, store.layout.prediction(image.id, params.model!), rest);
    });

  async function undoRedo(c: RouteContext, op: 'undo' | 'redo'): Promise<void> {
    const body = parse(UndoBody, await readJson(c.req, o.maxJsonBytes), op);
    const image = store.image(c.params.image!);
    const entry = strokes.undoRedo(image.id, author(c, body.author), op, body.target);
    ctx.hub.entry(image.id, entry);
    sendJson(c.res, 201, entry);
  }
}
