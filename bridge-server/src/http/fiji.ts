import type { ServerResponse } from 'node:http';
import {
  FijiStrokeChunkSchema,
  formatFijiPoints,
  IdSchema,
  keyValueLines,
  outlinesToStrokes,
  PROTOCOL_VERSION,
  parseFijiStroke,
  type ServerMessage,
} from '@impartial/shared';
import { z } from 'zod';
import type { BridgeContext } from '../hub/connection.js';
import { BridgeError } from '../store/errors.js';
import { exportLevel, imageTiff, predictionTiff } from '../store/exports.js';
import type { StoredImage } from '../store/store.js';
import { nonNegativeInt, parseInput as parse } from './input.js';
import { STATUS, sendBytes } from './respond.js';
import type { Router } from './router.js';

/*
 * The ImageJ/Fiji macro routes (documented in shared/src/protocol/fiji.ts): GETs only, key=value
 * replies, idempotent under ImageJ's doubled requests, file URLs that end in .tif.
 */

type Fields = Record<string, string | number | boolean | null | undefined>;

/** Replies to requests with an id are remembered this long, so a repeated GET gets the same answer. */
const REPLAY_MS = 10 * 60_000;
const MAX_POLL_MS = 30_000;

function kv(res: ServerResponse, status: number, fields: Fields): void {
  const body = keyValueLines(fields);
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(body);
}

/** Macro clients get errors as key=value too (error=..., code=...), with the usual status. */
export function sendFijiError(res: ServerResponse, e: BridgeError): void {
  kv(res, STATUS[e.code], { error: e.message, code: e.code });
}

const num = (what: string) => z.coerce.number({ error: `${what} must be a number` }).finite();

const ViewQuery = z.object({
  x: num('x'),
  y: num('y'),
  zoom: num('zoom').default(0),
  channel: z.coerce.number().int().min(0).optional(),
  slice: z.coerce.number().int().min(0).optional(),
  ax: z.coerce.number().int().min(0).optional(),
  ay: z.coerce.number().int().min(0).optional(),
  aw: z.coerce.number().int().positive().optional(),
  ah: z.coerce.number().int().positive().optional(),
});

function query(url: URL): Record<string, string> {
  return Object.fromEntries(url.searchParams.entries());
}

export function registerFiji(router: Router, ctx: BridgeContext, token: string | null): void {
  const { store, strokes, hub, jobs } = ctx;
  const chunks = new Map<string, { n: number; parts: Map<number, string>; reply?: Fields; t: number }>();
  const replies = new Map<string, { fields: Fields; t: number }>();
  const prefix = token ? `/t/${encodeURIComponent(token)}` : '';

  const sweep = () => {
    const old = Date.now() - REPLAY_MS;
    for (const [k, v] of chunks) if (v.t < old) chunks.delete(k);
    for (const [k, v] of replies) if (v.t < old) replies.delete(k);
  };
  const imageOf = (url: URL): StoredImage => {
    const id = url.searchParams.get('image');
    if (!id || !IdSchema.safeParse(id).success) throw new BridgeError('bad-request', 'image=ID is required');
    return store.image(id);
  };
  const nameOf = (url: URL) => (url.searchParams.get('name') ?? 'fiji').slice(0, 100) || 'fiji';
  /** Runs `action` once per (route, id); a repeated GET replays the first reply. */
  const once = (route: string, url: URL, action: () => Fields): Fields => {
    const id = url.searchParams.get('id');
    if (!id || !/^[A-Za-z0-9_.-]{1,80}$/.test(id))
      throw new BridgeError(
        'bad-request',
        'id=ID (1-80 letters, digits, _ . -) is required so a repeated request does nothing twice',
      );
    const key = `${route}:${id}`;
    const seen = replies.get(key);
    if (seen) return seen.fields;
    sweep();
    const fields = action();
    replies.set(key, { fields, t: Date.now() });
    return fields;
  };

  const fileUrl = (p: string) => `${prefix}${p}`;

  /** An event as key=value fields, or null for events macros do not use. */
  const fields = (message: ServerMessage, imageId: string): Fields | null => {
    switch (message.type) {
      case 'entry': {
        const e = message.entry;
        if (e.op === 'add' || e.op === 'erase')
          return {
            type: 'stroke',
            entry: e.seq,
            op: e.op,
            class: e.class,
            width: e.width,
            author: e.author,
            points: formatFijiPoints(e.points),
          };
        const target = strokes.entry(imageId, e.target);
        const drawn =
          target && (target.op === 'add' || target.op === 'erase')
            ? { op: target.op, class: target.class, width: target.width, points: formatFijiPoints(target.points) }
            : {};
        return { type: e.op, entry: e.seq, target: e.target, author: e.author, ...drawn };
      }
      case 'view': {
        const v = message.view;
        return {
          type: 'view',
          client: message.clientId,
          name: message.name,
          x: v.x,
          y: v.y,
          zoom: v.zoom,
          channel: v.channel,
          slice: v.slice,
          ax: v.area?.x,
          ay: v.area?.y,
          aw: v.area?.width,
          ah: v.area?.height,
        };
      }
      case 'job':
        return {
          type: 'job',
          job: message.job.id,
          kind: message.job.kind,
          status: message.job.status,
          error: message.job.error,
        };
      case 'train-progress':
        return {
          type: 'progress',
          job: message.job,
          step: message.step,
          steps: message.steps ?? undefined,
          loss: message.loss.toFixed(4),
          eta: Math.round(message.etaSeconds),
        };
      case 'model':
        return { type: 'model', model: message.model.id, current: message.current ? 1 : 0 };
      case 'infer-progress':
        return { type: 'infer-progress', job: message.job, done: message.done, total: message.total };
      case 'tiles': {
        const p = message.prediction;
        if (p.status !== 'complete' || message.tiles.length > 0) return null;
        const image = store.image(p.image);
        const level = exportLevel(image);
        const base = `/fiji/predictions/${p.image}/${p.model}/${level}`;
        return {
          type: 'prediction',
          model: p.model,
          level,
          scale: 2 ** level,
          cells: p.cells,
          labels_url: fileUrl(`${base}/labels.tif`),
          probability_url: fileUrl(`${base}/probability.tif`),
          entropy_url: fileUrl(`${base}/entropy.tif`),
        };
      }
      case 'suggestions': {
        const t = message.tiles[0];
        return t
          ? { type: 'suggestion', x: t.x, y: t.y, w: t.width, h: t.height, entropy: t.entropy.toFixed(4) }
          : null;
      }
      default:
        return null;
    }
  };

  router
    .on('GET', '/fiji/projects', ({ res }) => {
      const ps = store.projects();
      const f: Fields = { count: ps.length };
      ps.forEach((p, k) => {
        f[`project${k}`] = p.id;
        f[`project_name${k}`] = p.name;
      });
      kv(res, 200, f);
    })
    .on('GET', '/fiji/images', ({ res, url }) => {
      const project = url.searchParams.get('project');
      const images = project
        ? store.images(store.project(project).id)
        : store.projects().flatMap((p) => store.images(p.id));
      const f: Fields = { count: images.length };
      for (const [k, i] of images.entries()) {
        Object.assign(f, {
          [`id${k}`]: i.id,
          [`name${k}`]: i.name,
          [`width${k}`]: i.width,
          [`height${k}`]: i.height,
          [`channels${k}`]: i.channels,
        });
      }
      kv(res, 200, f);
    })
    .on('GET', '/fiji/hello', ({ res, url }) => {
      const image = imageOf(url);
      const level = exportLevel(image);
      const prediction = store.latestPrediction(image.id);
      kv(res, 200, {
        protocol: PROTOCOL_VERSION,
        server: ctx.version,
        image: image.id,
        name: image.name,
        width: image.width,
        height: image.height,
        channels: image.channels,
        levels: image.levels,
        cursor: hub.cursor(image.id),
        seq: strokes.lastSeq(image.id),
        image_url: fileUrl(`/fiji/images/${image.id}/${level}/image.tif`),
        scale: 2 ** level,
        ...(prediction?.status === 'complete'
          ? {
              model: prediction.model,
              cells: prediction.cells,
              labels_url: fileUrl(`/fiji/predictions/${image.id}/${prediction.model}/${level}/labels.tif`),
              entropy_url: fileUrl(`/fiji/predictions/${image.id}/${prediction.model}/${level}/entropy.tif`),
            }
          : {}),
      });
    })
    .on('GET', '/fiji/events', async ({ req, res, url }) => {
      const image = imageOf(url);
      let since = Number(url.searchParams.get('since') ?? 0);
      const timeout = Math.min(MAX_POLL_MS, Math.max(0, Number(url.searchParams.get('timeout') ?? 0) || 0));
      if (!Number.isInteger(since) || since < 0)
        throw new BridgeError('bad-request', 'since must be a non-negative integer');
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
      let reply: Fields | null = null;
      while (!abort.signal.aborted) {
        const ev = await hub.nextEvent(image.id, since, Math.max(0, deadline - Date.now()), abort.signal);
        if (ev === 'reset') {
          reply = { seq: hub.cursor(image.id), type: 'reset' };
          break;
        }
        // Nothing more: if only events this client does not use came, move its cursor past them.
        if (!ev) {
          if (since > start) reply = { seq: since, type: 'none' };
          break;
        }
        since = ev.n;
        const f = fields(ev.message, image.id);
        const mine =
          me !== null &&
          ((ev.message.type === 'entry' && ev.message.entry.author === me) ||
            (ev.message.type === 'view' && ev.message.name === me));
        if (f && !mine) {
          reply = { seq: ev.n, ...f };
          break;
        }
      }
      const body = reply ? keyValueLines(reply) : '';
      if (res.headersSent) res.end(body);
      else {
        res.writeHead(200, {
          'Content-Type': 'text/plain; charset=utf-8',
          'Content-Length': Buffer.byteLength(body),
          'Cache-Control': 'no-store',
        });
        res.end(body);
      }
    })
    .on('GET', '/fiji/strokes', ({ res, url }) => {
      const image = imageOf(url);
      const active = strokes.drawings(image.id);
      const f: Fields = { count: active.length, cursor: hub.cursor(image.id) };
      for (const [k, d] of active.entries()) {
        Object.assign(f, {
          [`entry${k}`]: d.seq,
          [`op${k}`]: d.op,
          [`class${k}`]: d.class,
          [`width${k}`]: d.width,
          [`author${k}`]: d.author,
          [`points${k}`]: formatFijiPoints(d.points),
        });
      }
      kv(res, 200, f);
    })
    .on('GET', '/fiji/stroke', ({ res, url }) => {
      const q = parse(FijiStrokeChunkSchema, query(url));
      if (q.i >= q.n) throw new BridgeError('bad-request', `chunk i=${q.i} but n=${q.n}`);
      const image = store.image(q.image);
      const key = `${image.id}:${q.id}`;
      let c = chunks.get(key);
      if (!c) {
        sweep();
        c = { n: q.n, parts: new Map(), t: Date.now() };
        chunks.set(key, c);
      }
      if (c.n !== q.n) throw new BridgeError('bad-request', `stroke ${q.id} was announced with n=${c.n}, now n=${q.n}`);
      c.parts.set(q.i, q.d);
      if (!c.reply && c.parts.size === c.n) {
        const text = Array.from({ length: c.n }, (_, i) => c!.parts.get(i)!).join('');
        let drawing: ReturnType<typeof parseFijiStroke>;
        try {
          drawing = parseFijiStroke(text);
        } catch (e) {
          chunks.delete(key);
          throw new BridgeError('bad-request', (e as Error).message);
        }
        const drawings =
          drawing.op === 'outline'
            ? outlinesToStrokes([drawing.points], image.width, image.height)
            : [{ ...drawing, op: drawing.op }];
        if (drawings.length === 0) {
          chunks.delete(key);
          throw new BridgeError('bad-request', 'the outline encloses no pixel of the image');
        }
        const entries = strokes.appendMany(image.id, nameOf(url), [], drawings);
        for (const e of entries) hub.entry(image.id, e);
        c.reply = { ok: 1, complete: 1, seq: entries.at(-1)!.seq, strokes: entries.length };
      }
      kv(res, 200, c.reply ?? { ok: 1, complete: 0, received: c.parts.size, of: c.n });
    })
    .on('GET', '/fiji/undo', ({ res, url }) =>
      kv(
        res,
        200,
        once('undo', url, () => undoRedo(url, 'undo')),
      ),
    )
    .on('GET', '/fiji/redo', ({ res, url }) =>
      kv(
        res,
        200,
        once('redo', url, () => undoRedo(url, 'redo')),
      ),
    )
    .on('GET', '/fiji/view', ({ res, url }) => {
      const image = imageOf(url);
      const q = parse(ViewQuery, query(url));
      const name = nameOf(url);
      hub.view(
        image.id,
        { id: `fiji-${name}`, name },
        {
          x: q.x,
          y: q.y,
          zoom: q.zoom,
          ...(q.channel !== undefined ? { channel: q.channel } : {}),
          ...(q.slice !== undefined ? { slice: q.slice } : {}),
          ...(q.ax !== undefined && q.ay !== undefined && q.aw !== undefined && q.ah !== undefined
            ? { area: { x: q.ax, y: q.ay, width: q.aw, height: q.ah } }
            : {}),
        },
      );
      kv(res, 200, { ok: 1 });
    })
    .on('GET', '/fiji/train', ({ res, url }) =>
      kv(
        res,
        200,
        once('train', url, () => {
          const image = imageOf(url);
          const steps = url.searchParams.get('steps'),
            seconds = url.searchParams.get('seconds');
          const job = jobs.startTrain(
            image.project,
            {
              ...(steps ? { steps: parse(z.coerce.number().int().positive(), steps) } : {}),
              ...(seconds ? { seconds: parse(z.coerce.number().positive(), seconds) } : {}),
            },
            nameOf(url),
          );
          return { ok: 1, job: job.id, status: job.status };
        }),
      ),
    )
    .on('GET', '/fiji/stop', ({ res, url }) =>
      kv(
        res,
        200,
        once('stop', url, () => {
          const image = imageOf(url);
          const running = jobs.active().find((j) => j.kind === 'train' && j.project === image.project);
          if (!running) return { ok: 0, error: 'not training' };
          jobs.cancel(running.id);
          return { ok: 1, job: running.id };
        }),
      ),
    )
    .on('GET', '/fiji/infer', ({ res, url }) =>
      kv(
        res,
        200,
        once('infer', url, () => {
          const job = jobs.startInfer({ image: imageOf(url).id });
          return { ok: 1, job: job.id };
        }),
      ),
    )
    .on('GET', '/fiji/images/:image/:level/image.tif', async ({ res, params }) => {
      const image = store.image(params.image!);
      sendBytes(res, await imageTiff(image, nonNegativeInt(params.level!, 0, 'level')), 'image/tiff');
    })
    .on('GET', '/fiji/predictions/:image/:model/:level/*', async ({ res, params, rest }) => {
      const part = /^(labels|probability|entropy)\.tif$/.exec(rest)?.[1] as
        | 'labels'
        | 'probability'
        | 'entropy'
        | undefined;
      if (!part) throw new BridgeError('not-found', `${rest} (choose labels.tif, probability.tif or entropy.tif)`);
      const image = store.image(params.image!);
      sendBytes(
        res,
        await predictionTiff(store, image, params.model!, nonNegativeInt(params.level!, 0, 'level'), part),
        'image/tiff',
      );
    });

  function undoRedo(url: URL, op: 'undo' | 'redo'): Fields {
    const image = imageOf(url);
    const target = url.searchParams.get('target');
    const entry = strokes.undoRedo(
      image.id,
      nameOf(url),
      op,
      target ? parse(z.coerce.number().int().positive(), target) : undefined,
    );
    hub.entry(image.id, entry);
    return { ok: 1, seq: entry.seq, target: (entry as { target: number }).target };
  }
}
