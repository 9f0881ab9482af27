import { InferRequestSchema, TrainRequestSchema } from '@impartial/shared';
import { parseInput as parse } from '../http/input.js';
import { readJson, sendJson } from '../http/respond.js';
import type { Router } from '../http/router.js';
import { named } from '../services/index.js';
import type { TransportOptions } from './options.js';

/** Training and inference requests, and the jobs they become (list, one with its log, cancel). */
export function registerJobs(router: Router, o: TransportOptions): void {
  const { services } = o;
  router
    .on('POST', '/api/projects/:project/train', async ({ actor, req, res, params, url }) => {
      const body = parse(TrainRequestSchema, await readJson(req, o.maxJsonBytes), 'train');
      const by = named(actor, url.searchParams.get('author'));
      sendJson(res, 202, await services.training.start(by, params.project!, body));
    })
    .on('POST', '/api/infer', async ({ actor, req, res }) => {
      const body = parse(InferRequestSchema, await readJson(req, o.maxJsonBytes), 'infer');
      sendJson(res, 202, await services.inference.start(actor, body));
    })
    .on('GET', '/api/projects/:project/jobs', async ({ actor, res, params }) =>
      sendJson(res, 200, await services.jobs.list(actor, params.project!)),
    )
    .on('GET', '/api/jobs/:job', async ({ actor, res, params }) =>
      sendJson(res, 200, await services.jobs.get(actor, params.job!)),
    )
    .on('DELETE', '/api/jobs/:job', async ({ actor, res, params }) =>
      sendJson(res, 202, await services.jobs.cancel(actor, params.job!)),
    );
}
