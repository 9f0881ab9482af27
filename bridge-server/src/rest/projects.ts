import { rm } from 'node:fs/promises';
import { IdSchema } from '@impartial/shared';
import { z } from 'zod';
import { parseInput as parse } from '../http/input.js';
import { abortedByClient, readJson, sendJson } from '../http/respond.js';
import type { RouteContext, Router } from '../http/router.js';
import { receiveUpload } from '../http/uploads.js';
import { publicImage } from '../services/index.js';
import type { TransportOptions } from './options.js';

const ProjectBody = z.object({ name: z.string().min(1).max(200), id: IdSchema.optional() }).strict();
const ImportBody = z
  .object({
    path: z.string().min(1).max(4096).optional(),
    url: z
      .string()
      .url()
      .max(4096)
      .regex(/^https?:\/\//i, 'url must be http(s) (an OME-Zarr image)')
      .optional(),
    name: z.string().min(1).max(200).optional(),
  })
  .strict()
  .refine((b) => (b.path === undefined) !== (b.url === undefined), 'give exactly one of path or url');
const CurrentBody = z.object({ model: IdSchema }).strict();

/** Projects, their image imports (a TIFF/PNG body, or JSON naming a path or URL) and their current model. */
export function registerProjects(router: Router, o: TransportOptions): void {
  const { services } = o;
  const importImage = async ({ actor, req, res, params, url }: RouteContext) => {
    const project = (await services.projects.get(actor, params.project!)).id;
    const signal = abortedByClient(res);
    if ((req.headers['content-type'] ?? '').startsWith('application/json')) {
      const body = parse(ImportBody, await readJson(req, o.maxJsonBytes), 'import');
      const image = body.url
        ? await services.images.importUrl(actor, project, body.url, body.name, { signal })
        : await services.images.importPath(actor, project, body.path!, body.name, { signal });
      return sendJson(res, 201, publicImage(image));
    }
    const upload = await receiveUpload(req, o.tempDir, o.maxUploadBytes);
    try {
      const name = url.searchParams.get('name') || `image-${new Date().toISOString().slice(0, 19)}`;
      sendJson(res, 201, publicImage(await services.images.importUpload(actor, project, upload, name, { signal })));
    } finally {
      await rm(upload.file, { force: true });
    }
  };
  router
    .on('GET', '/api/projects', async ({ actor, res }) => sendJson(res, 200, await services.projects.list(actor)))
    .on('POST', '/api/projects', async ({ actor, req, res }) => {
      const body = parse(ProjectBody, await readJson(req, o.maxJsonBytes), 'project');
      sendJson(res, 201, await services.projects.create(actor, body.name, body.id));
    })
    .on('GET', '/api/projects/:project', async ({ actor, res, params }) =>
      sendJson(res, 200, await services.projects.detail(actor, params.project!)),
    )
    .on('GET', '/api/imports', async ({ actor, res, url }) =>
      sendJson(res, 200, await services.images.imports(actor, url.searchParams.get('project') ?? undefined)),
    )
    .on('POST', '/api/projects/:project/images', importImage)
    .on('PUT', '/api/projects/:project/current', async ({ actor, req, res, params }) => {
      const body = parse(CurrentBody, await readJson(req, o.maxJsonBytes), 'current model');
      sendJson(res, 200, await services.projects.setCurrentModel(actor, params.project!, body.model));
    });
}
