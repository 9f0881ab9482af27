import { formatFijiPoints, keyValueLines, PROTOCOL_VERSION } from '@impartial/shared';
import { ImpartialError } from '../errors.js';
import type { RouteContext, Router } from '../http/router.js';
import type { FijiRequests } from './context.js';
import { eventFields, type Fields, indexed, kv } from './encoding.js';

/** Longest a macro's /fiji/events poll waits for an event. */
const MAX_POLL_MS = 30_000;

/** What a macro reads: projects, images, an image's state (hello), its strokes, and its events by long poll. */
export function registerFijiSession(router: Router, f: FijiRequests): void {
  const { services } = f;
  router
    .on('GET', '/fiji/projects', async ({ actor, res }) => {
      kv(
        res,
        200,
        indexed(await services.projects.list(actor), (p) => ({ project: p.id, project_name: p.name })),
      );
    })
    .on('GET', '/fiji/images', async ({ actor, res, url }) => {
      const project = url.searchParams.get('project');
      const projects = project ? [await services.projects.get(actor, project)] : await services.projects.list(actor);
      const images = (await Promise.all(projects.map((p) => services.images.list(actor, p.id)))).flat();
      const fields = (i: (typeof images)[number]) => ({
        id: i.id,
        name: i.name,
        width: i.width,
        height: i.height,
        channels: i.channels,
      });
      kv(res, 200, indexed(images, fields));
    })
    .on('GET', '/fiji/hello', async ({ actor, req, res, url }) => {
      const image = await services.images.get(actor, f.imageId(url));
      const level = await services.predictions.exportLevel(actor, image.id);
      const prediction = await services.predictions.latest(actor, image.id);
      const files = `/fiji/predictions/${image.id}/${prediction?.model}/${level}`;
      kv(res, 200, {
        protocol: PROTOCOL_VERSION,
        server: services.version,
        image: image.id,
        name: image.name,
        width: image.width,
        height: image.height,
        channels: image.channels,
        levels: image.levels,
        cursor: await services.live.cursor(actor, image.id),
        seq: await services.strokes.lastSeq(actor, image.id),
        image_url: f.fileUrl(req, `/fiji/images/${image.id}/${level}/image.tif`),
        scale: 2 ** level,
        ...(prediction?.status === 'complete'
          ? {
              model: prediction.model,
              cells: prediction.cells,
              labels_url: f.fileUrl(req, `${files}/labels.tif`),
              entropy_url: f.fileUrl(req, `${files}/entropy.tif`),
            }
          : {}),
      });
    })
    .on('GET', '/fiji/events', (c) => events(c, f))
    .on('GET', '/fiji/strokes', async ({ actor, res, url }) => {
      const image = f.imageId(url);
      const cursor = await services.live.cursor(actor, image);
      const fields = (d: Awaited<ReturnType<typeof services.strokes.drawings>>[number]) => ({
        entry: d.seq,
        op: d.op,
        class: d.class,
        width: d.width,
        author: d.author,
        points: formatFijiPoints(d.points),
      });
      kv(res, 200, indexed(await services.strokes.drawings(actor, image), fields, { cursor }));
    });
}

/** The next event of the image after `since` that this macro uses, waiting up to `timeout` ms for one. */
async function events({ actor, req, res, url }: RouteContext, f: FijiRequests): Promise<void> {
  const image = f.imageId(url);
  const live = f.services.live;
  // Checked before any header goes out: a missing image must still get its error reply.
  await live.cursor(actor, image);
  let since = Number(url.searchParams.get('since') ?? 0);
  const timeout = Math.min(MAX_POLL_MS, Math.max(0, Number(url.searchParams.get('timeout') ?? 0) || 0));
  if (!Number.isInteger(since) || since < 0)
    throw new ImpartialError('bad-request', 'since must be a non-negative integer');
  const me = url.searchParams.get('me');
  // Headers first: ImageJ asks for the content length before reading, which would otherwise wait out the poll.
  if (url.searchParams.get('flush')) {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.flushHeaders();
  }
  const abort = new AbortController();
  req.on('close', () => abort.abort());
  const deadline = Date.now() + timeout,
    start = since;
  const encode = f.events(actor, image, req);
  let reply: Fields | null = null;
  while (!abort.signal.aborted) {
    const ev = await live.nextEvent(actor, image, since, Math.max(0, deadline - Date.now()), abort.signal);
    if (ev === 'reset') {
      reply = { seq: await live.cursor(actor, image), type: 'reset' };
      break;
    }
    // Nothing more: if only events this client does not use came, move its cursor past them.
    if (!ev) {
      if (since > start) reply = { seq: since, type: 'none' };
      break;
    }
    since = ev.n;
    const fields = await eventFields(ev.message, encode);
    const m = ev.message;
    const mine = me !== null && ((m.type === 'entry' && m.entry.author === me) || (m.type === 'view' && m.name === me));
    if (fields && !mine) {
      reply = { seq: ev.n, ...fields };
      break;
    }
  }
  const body = reply ? keyValueLines(reply) : '';
  if (!res.headersSent) {
    const headers = { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) };
    res.writeHead(200, { ...headers, 'Cache-Control': 'no-store' });
  }
  res.end(body);
}
