import { randomBytes } from 'node:crypto';
import {
  type ClientMessage,
  ClientMessageSchema,
  type ErrorCode,
  PROTOCOL_VERSION,
  type ServerMessage,
} from '@impartial/shared';
import type { WebSocket } from 'ws';
import { describeIssue } from '../http/input.js';
import type { JobManager } from '../jobs/manager.js';
import { BridgeError } from '../store/errors.js';
import { Store, type StoredImage } from '../store/store.js';
import type { StrokeLog } from '../store/strokes.js';
import type { Client, Hub } from './hub.js';

export interface BridgeContext {
  store: Store;
  strokes: StrokeLog;
  jobs: JobManager;
  hub: Hub;
  version: string;
}

/** A client that reads slower than this many buffered bytes is dropped rather than letting memory grow. */
const MAX_BUFFERED = 32 * 1024 * 1024;
const HELLO_TIMEOUT_MS = 10_000;

/** One WebSocket: hello first, then messages of one image's room. Bad input gets an error, never a crash. */
export function handleConnection(ws: WebSocket, ctx: BridgeContext): void {
  const id = randomBytes(6).toString('hex');
  let image: StoredImage | null = null;
  let client: Client | null = null;
  const send = (m: ServerMessage) => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED) {
      ws.close(1013, 'client too slow');
      return;
    }
    ws.send(JSON.stringify(m));
  };
  const fail = (code: ErrorCode, message: string, ref?: string) =>
    send({ type: 'error', code, message, ...(ref !== undefined ? { ref } : {}) });
  const helloTimer = setTimeout(() => {
    if (!image) {
      fail('bad-message', `no hello within ${HELLO_TIMEOUT_MS / 1000} s`);
      ws.close(4001, 'no hello');
    }
  }, HELLO_TIMEOUT_MS);

  ws.on('message', (data, isBinary) => {
    if (isBinary) return fail('bad-message', 'messages are JSON text frames');
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.toString());
    } catch {
      return fail('bad-message', 'not valid JSON');
    }
    const result = ClientMessageSchema.safeParse(parsed);
    const ref =
      typeof (parsed as { ref?: unknown })?.ref === 'string'
        ? (parsed as { ref: string }).ref.slice(0, 100)
        : undefined;
    if (!result.success) return fail('bad-message', describeIssue(result.error), ref);
    try {
      handle(result.data);
    } catch (e) {
      if (e instanceof BridgeError) fail(e.code, e.message, ref);
      else fail('internal', (e as Error).message, ref);
    }
  });
  ws.on('close', () => {
    clearTimeout(helloTimer);
    if (image && client) ctx.hub.leave(image.id, client);
  });
  ws.on('error', () => {});

  function handle(m: ClientMessage): void {
    if (m.type === 'hello') {
      hello(m);
      return;
    }
    if (m.type === 'ping') {
      send({ type: 'pong', server: Date.now(), ...(m.t !== undefined ? { t: m.t } : {}) });
      return;
    }
    if (!image || !client) throw new BridgeError('bad-message', `send hello before ${m.type}`);
    const img = image,
      me = client;
    switch (m.type) {
      case 'draw': {
        const { entry, fresh } = ctx.strokes.appendOnce(img.id, me.name, m.drawing, m.ref);
        // A resent drawing is acknowledged again, to its sender only: everyone has it already.
        if (fresh) ctx.hub.entry(img.id, entry, me, m.ref);
        else send({ type: 'entry', entry, ...(m.ref !== undefined ? { ref: m.ref } : {}) });
        return;
      }
      case 'undo':
      case 'redo':
        ctx.hub.entry(img.id, ctx.strokes.undoRedo(img.id, me.name, m.type, m.target), me, m.ref);
        return;
      case 'view':
        ctx.hub.view(img.id, me, m.view);
        return;
      case 'train-start': {
        const job = ctx.jobs.startTrain(img.project, m.options ?? {}, me.name);
        send({ type: 'job', job, ...(m.ref !== undefined ? { ref: m.ref } : {}) });
        return;
      }
      case 'train-stop': {
        const target = m.job ?? ctx.jobs.active().find((j) => j.kind === 'train' && j.project === img.project)?.id;
        if (!target) throw new BridgeError('conflict', `project ${img.project} is not training`);
        const job = ctx.jobs.cancel(target);
        send({ type: 'job', job, ...(m.ref !== undefined ? { ref: m.ref } : {}) });
        return;
      }
      case 'infer': {
        const job = ctx.jobs.startInfer({ ...m.request, image: img.id });
        send({ type: 'job', job, ...(m.ref !== undefined ? { ref: m.ref } : {}) });
        return;
      }
    }
  }

  function hello(m: Extract<ClientMessage, { type: 'hello' }>): void {
    if (image) throw new BridgeError('bad-message', 'hello was already sent on this connection');
    if (m.protocol !== PROTOCOL_VERSION) {
      fail(
        'protocol-mismatch',
        `this bridge speaks protocol ${PROTOCOL_VERSION} (server ${ctx.version}); the client sent ${m.protocol}. Update the client or the bridge.`,
      );
      ws.close(4002, 'protocol mismatch');
      return;
    }
    const img = ctx.store.image(m.image);
    clearTimeout(helloTimer);
    image = img;
    client = { id, name: m.name ?? `${m.client}-${id.slice(0, 4)}`, kind: m.client, send };
    const project = ctx.store.project(img.project);
    send({
      type: 'welcome',
      protocol: PROTOCOL_VERSION,
      server: ctx.version,
      clientId: id,
      image: Store.publicImage(img),
      seq: ctx.strokes.lastSeq(img.id),
      entries: ctx.strokes.entries(img.id, m.since ?? 0),
      models: ctx.store.models(img.project),
      currentModel: project.currentModel,
      jobs: ctx.store.jobs(img.project, 20),
      prediction: ctx.store.latestPrediction(img.id),
      views: ctx.hub.views(img.id),
    });
    ctx.hub.join(img.id, client);
  }
}
