import { monitorEventLoopDelay } from 'node:perf_hooks';
import { PROTOCOL_VERSION } from '@impartial/shared';
import { sendJson } from '../http/respond.js';
import type { Router } from '../http/router.js';
import type { TransportOptions } from './options.js';

/** How long callbacks wait to run: the figure that says whether training starves the bridge. */
const LAG_RESOLUTION_MS = 10;

/** GET /api/info (who this is) and /api/health (event-loop lag, running jobs). */
export function registerInfo(router: Router, { services }: TransportOptions): void {
  const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  lag.enable();
  // The histogram holds timer intervals; the lag is what they overran the sampling period by.
  const ms = (ns: number) => Math.max(0, Math.round(ns / 1e4) / 100 - LAG_RESOLUTION_MS);
  const mb = (bytes: number) => Math.round(bytes / 1024 ** 2);
  router
    .on('GET', '/api/info', ({ res }) =>
      sendJson(res, 200, { name: 'impartial-bridge', version: services.version, protocol: PROTOCOL_VERSION }),
    )
    .on('GET', '/api/health', async ({ actor, res, url }) => {
      sendJson(res, 200, {
        uptimeSeconds: Math.round(process.uptime()),
        jobs: (await services.jobs.active(actor)).map((j) => ({ id: j.id, kind: j.kind })),
        eventLoopLagMs: {
          p50: ms(lag.percentile(50)),
          p99: ms(lag.percentile(99)),
          max: ms(lag.max),
          samples: lag.count,
        },
        memoryMb: { rss: mb(process.memoryUsage().rss), heapUsed: mb(process.memoryUsage().heapUsed) },
      });
      if (url.searchParams.get('reset')) lag.reset();
    });
}
