import { FijiStrokeChunkSchema, parseFijiStroke } from '@impartial/shared';
import { z } from 'zod';
import { ImpartialError } from '../errors.js';
import { parseInput as parse } from '../http/input.js';
import type { Router } from '../http/router.js';
import type { Actor } from '../services/index.js';
import type { FijiRequests } from './context.js';
import { type Fields, kv } from './encoding.js';
import { ChunkAssembler, ReplayCache } from './replay.js';

const num = (what: string) => z.coerce.number({ error: `${what} must be a number` }).finite();
const optionalInt = (min: number) => z.coerce.number().int().min(min).optional();

const ViewQuery = z.object({
  x: num('x'),
  y: num('y'),
  zoom: num('zoom').default(0),
  channel: optionalInt(0),
  slice: optionalInt(0),
  ax: optionalInt(0),
  ay: optionalInt(0),
  aw: optionalInt(1),
  ah: optionalInt(1),
});
const Positive = z.coerce.number().int().positive();

const query = (url: URL) => Object.fromEntries(url.searchParams.entries());

/** What a macro changes: strokes (chunked), undo/redo, its view, training and inference. All GETs, idempotent by id. */
export function registerFijiActions(router: Router, f: FijiRequests): void {
  const { services } = f;
  const replies = new ReplayCache();
  const chunks = new ChunkAssembler();
  const once = (route: string, action: (actor: Actor, url: URL) => Fields | Promise<Fields>) => {
    router.on('GET', `/fiji/${route}`, async ({ actor, res, url }) =>
      kv(res, 200, await replies.once(route, url, () => action(f.actor(actor, url), url), actor.account?.id)),
    );
  };
  const undoRedo = (op: 'undo' | 'redo') => async (actor: Actor, url: URL) => {
    const target = url.searchParams.get('target');
    const [entry] = await services.strokes.undoRedo(
      actor,
      f.imageId(url),
      op,
      target ? parse(Positive, target) : undefined,
    );
    return { ok: 1, seq: entry!.seq, target: (entry as { target: number }).target };
  };

  /** The stroke a macro sent, once all its chunks are in: added (outlines converted first). */
  const addStroke = async (by: Actor, image: string, id: string, text: string): Promise<Fields> => {
    let drawing: ReturnType<typeof parseFijiStroke>;
    try {
      drawing = parseFijiStroke(text);
    } catch (e) {
      throw new ImpartialError('bad-request', (e as Error).message);
    }
    const entries =
      drawing.op === 'outline'
        ? // Its strokes carry the macro's id: undone and redone as one outline.
          await services.strokes.addOutlines(by, image, [drawing.points], [], {}, { ref: `fiji-${id}` })
        : await services.strokes.replace(by, image, [], [{ ...drawing, op: drawing.op }]);
    return { ok: 1, complete: 1, seq: entries.at(-1)!.seq, strokes: entries.length };
  };

  router.on('GET', '/fiji/stroke', async ({ actor, res, url }) => {
    const q = parse(FijiStrokeChunkSchema, query(url));
    const image = await services.images.get(actor, q.image);
    const key = `${image.id}:${q.id}`;
    const part = chunks.add(key, q.i, q.n, q.d);
    if (part.done) return kv(res, 200, await part.done);
    if (part.text === null) return kv(res, 200, { ok: 1, complete: 0, ...chunks.received(key) });
    // Marked complete before any await, so the doubled GET of the last chunk waits for this reply.
    const reply = addStroke(f.actor(actor, url), image.id, q.id, part.text);
    chunks.complete(key, reply);
    kv(res, 200, await reply);
  });
  once('undo', undoRedo('undo'));
  once('redo', undoRedo('redo'));
  router.on('GET', '/fiji/view', async ({ actor, res, url }) => {
    const q = parse(ViewQuery, query(url));
    const by = f.actor(actor, url);
    const area =
      q.ax !== undefined && q.ay !== undefined && q.aw !== undefined && q.ah !== undefined
        ? { area: { x: q.ax, y: q.ay, width: q.aw, height: q.ah } }
        : {};
    const view = {
      x: q.x,
      y: q.y,
      zoom: q.zoom,
      ...(q.channel !== undefined ? { channel: q.channel } : {}),
      ...(q.slice !== undefined ? { slice: q.slice } : {}),
      ...area,
    };
    await services.live.view(by, f.imageId(url), { id: `fiji-${by.name}`, name: by.name }, view);
    kv(res, 200, { ok: 1 });
  });
  once('train', async (actor, url) => {
    const image = await services.images.get(actor, f.imageId(url));
    const steps = url.searchParams.get('steps'),
      seconds = url.searchParams.get('seconds');
    const job = await services.training.start(actor, image.project, {
      ...(steps ? { steps: parse(Positive, steps) } : {}),
      ...(seconds ? { seconds: parse(z.coerce.number().positive(), seconds) } : {}),
    });
    return { ok: 1, job: job.id, status: job.status };
  });
  once('stop', async (actor, url) => {
    const image = await services.images.get(actor, f.imageId(url));
    const running = await services.training.running(actor, image.project);
    if (!running) return { ok: 0, error: 'not training' };
    await services.training.stop(actor, image.project, running.id);
    return { ok: 1, job: running.id };
  });
  once('infer', async (actor, url) => ({
    ok: 1,
    job: (await services.inference.start(actor, { image: f.imageId(url) })).id,
  }));
}
