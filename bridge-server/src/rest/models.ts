import { sendJson } from '../http/respond.js';
import type { Router } from '../http/router.js';
import { serveFile } from '../http/static-files.js';
import type { TransportOptions } from './options.js';

/** Model versions of a project, one version, and its files (model.json, weights.bin, loss.svg). */
export function registerModels(router: Router, { services }: TransportOptions): void {
  router
    .on('GET', '/api/projects/:project/models', async ({ actor, res, params }) =>
      sendJson(res, 200, await services.models.list(actor, params.project!)),
    )
    .on('GET', '/api/models/:model', async ({ actor, res, params }) =>
      sendJson(res, 200, await services.models.get(actor, params.model!)),
    )
    .on('GET', '/api/models/:model/files/*', async ({ actor, req, res, params, rest }) => {
      const { dir, name } = await services.models.file(actor, params.model!, rest);
      await serveFile(req, res, dir, name);
    });
}
