import type { ServerResponse } from 'node:http';
import { formatFijiPoints, keyValueLines, type LogEntry, type ServerMessage } from '@impartial/shared';
import type { ImpartialError } from '../errors.js';
import { statusOf } from '../http/respond.js';

/*
 * Replies to ImageJ macros: key=value lines (read with List.setList), errors too (error=, code=).
 * Events of an image's room become the same lines (documented in shared/src/protocol/fiji.ts).
 */

export type Fields = Record<string, string | number | boolean | null | undefined>;

export function kv(res: ServerResponse, status: number, fields: Fields): void {
  const body = keyValueLines(fields);
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(body);
}

/** Macro clients get errors as key=value too, with the usual status. */
export function sendFijiError(res: ServerResponse, e: ImpartialError): void {
  kv(res, statusOf(e.code), { error: e.message, code: e.code });
}

/** What the encoder needs to look up besides the message. */
export interface EventContext {
  /** The entry an undo or redo names (its drawing is repeated so the macro can remove or redraw it). */
  entry(seq: number): Promise<LogEntry | null>;
  /** The pyramid level a prediction's TIFFs are exported at, and the URL of one of its files. */
  exportLevel(imageId: string): Promise<number>;
  fileUrl(path: string): string;
}

async function entryFields(e: LogEntry, ctx: EventContext): Promise<Fields> {
  if (e.op === 'add' || e.op === 'erase') {
    const points = formatFijiPoints(e.points);
    return { type: 'stroke', entry: e.seq, op: e.op, class: e.class, width: e.width, author: e.author, points };
  }
  const target = await ctx.entry(e.target);
  const drawn =
    target && (target.op === 'add' || target.op === 'erase')
      ? { op: target.op, class: target.class, width: target.width, points: formatFijiPoints(target.points) }
      : {};
  return { type: e.op, entry: e.seq, target: e.target, author: e.author, ...drawn };
}

function viewFields(m: Extract<ServerMessage, { type: 'view' }>): Fields {
  const v = m.view;
  const area = { ax: v.area?.x, ay: v.area?.y, aw: v.area?.width, ah: v.area?.height };
  return {
    type: 'view',
    client: m.clientId,
    name: m.name,
    x: v.x,
    y: v.y,
    zoom: v.zoom,
    channel: v.channel,
    slice: v.slice,
    ...area,
  };
}

async function predictionFields(
  m: Extract<ServerMessage, { type: 'tiles' }>,
  ctx: EventContext,
): Promise<Fields | null> {
  const p = m.prediction;
  if (p.status !== 'complete' || m.tiles.length > 0) return null;
  const level = await ctx.exportLevel(p.image);
  const base = `/fiji/predictions/${p.image}/${p.model}/${level}`;
  return {
    type: 'prediction',
    model: p.model,
    level,
    scale: 2 ** level,
    cells: p.cells,
    labels_url: ctx.fileUrl(`${base}/labels.tif`),
    probability_url: ctx.fileUrl(`${base}/probability.tif`),
    entropy_url: ctx.fileUrl(`${base}/entropy.tif`),
  };
}

/** An event as key=value fields, or null for events macros do not use. */
export async function eventFields(message: ServerMessage, ctx: EventContext): Promise<Fields | null> {
  switch (message.type) {
    case 'entry':
      return entryFields(message.entry, ctx);
    case 'view':
      return viewFields(message);
    case 'job': {
      const j = message.job;
      return { type: 'job', job: j.id, kind: j.kind, status: j.status, error: j.error };
    }
    case 'train-progress': {
      const m = message;
      const eta = Math.round(m.etaSeconds);
      return { type: 'progress', job: m.job, step: m.step, steps: m.steps ?? undefined, loss: m.loss.toFixed(4), eta };
    }
    case 'model':
      return { type: 'model', model: message.model.id, current: message.current ? 1 : 0 };
    case 'infer-progress':
      return { type: 'infer-progress', job: message.job, done: message.done, total: message.total };
    case 'tiles':
      return predictionFields(message, ctx);
    case 'suggestions': {
      const t = message.tiles[0];
      return t ? { type: 'suggestion', x: t.x, y: t.y, w: t.width, h: t.height, entropy: t.entropy.toFixed(4) } : null;
    }
    case 'session':
      return { type: 'session', session: message.session, state: message.state, expires: message.expires };
    default:
      return null;
  }
}

/** Fields `name0, name1, ...` for each item of a list, after a count. */
export function indexed<T>(items: readonly T[], fields: (item: T) => Fields, extra: Fields = {}): Fields {
  const out: Fields = { count: items.length, ...extra };
  for (const [k, item] of items.entries()) {
    for (const [key, value] of Object.entries(fields(item))) out[`${key}${k}`] = value;
  }
  return out;
}
