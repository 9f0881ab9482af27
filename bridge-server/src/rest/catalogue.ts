import { CatalogueQuerySchema, PublishRequestSchema, UseRequestSchema } from '@impartial/shared';
import { parseInput as parse } from '../http/input.js';
import { readBody, readJson, sendBytes, sendJson } from '../http/respond.js';
import type { Router } from '../http/router.js';
import { serveFile } from '../http/static-files.js';
import { attachment } from './download.js';
import type { TransportOptions } from './options.js';

/** A model package sent for import: ours are a few MB; a larger body is refused before it is read. */
export const MAX_PACKAGE_BYTES = 256 * 1024 * 1024;

/** The model catalogue (publish, browse, use) and bioimage.io packages (export, import). */
export function registerCatalogue(router: Router, { services, maxJsonBytes }: TransportOptions): void {
  const { catalogue, packages } = services;
  router
    .on('GET', '/api/catalogue', async ({ actor, res, url }) => {
      const query = parse(CatalogueQuerySchema, Object.fromEntries(url.searchParams), 'catalogue query');
      sendJson(res, 200, await catalogue.list(actor, query));
    })
    .on('GET', '/api/catalogue/:entry', async ({ actor, res, params }) =>
      sendJson(res, 200, await catalogue.get(actor, params.entry!)),
    )
    .on('GET', '/api/catalogue/:entry/cover.png', async ({ actor, req, res, params }) => {
      const { dir, name } = await catalogue.file(actor, params.entry!, 'cover.png');
      await serveFile(req, res, dir, name);
    })
    .on('POST', '/api/catalogue/:entry/use', async ({ actor, req, res, params }) => {
      const body = parse(UseRequestSchema, await readJson(req, maxJsonBytes), 'use');
      sendJson(res, 201, await catalogue.use(actor, params.entry!, body.project));
    })
    .on('GET', '/api/catalogue/:entry/bioimageio.zip', async ({ actor, res, params }) => {
      const p = await packages.exportEntry(actor, params.entry!);
      sendBytes(res, p.zip, 'application/zip', { ...attachment(p.filename), 'X-Onnx-Max-Diff': String(p.maxDiff) });
    })
    .on('POST', '/api/models/:model/publish', async ({ actor, req, res, params }) => {
      const body = parse(PublishRequestSchema, await readJson(req, maxJsonBytes), 'publish');
      sendJson(res, 201, await catalogue.publish(actor, params.model!, body));
    })
    .on('GET', '/api/models/:model/bioimageio.zip', async ({ actor, res, params }) => {
      const p = await packages.exportModel(actor, params.model!);
      sendBytes(res, p.zip, 'application/zip', { ...attachment(p.filename), 'X-Onnx-Max-Diff': String(p.maxDiff) });
    })
    .on('POST', '/api/projects/:project/models/import', async ({ actor, req, res, params }) => {
      const project = (await services.projects.get(actor, params.project!)).id;
      const bytes = new Uint8Array(await readBody(req, MAX_PACKAGE_BYTES));
      sendJson(res, 201, await packages.importPackage(actor, project, bytes));
    });
}
