import { randomBytes } from 'node:crypto';
import {
  type ClientMessage,
  ClientMessageSchema,
  type ErrorCode,
  PROTOCOL_VERSION,
  type ServerMessage,
} from '@impartial/shared';
import type { WebSocket } from 'ws';
import { ImpartialError } from '../errors.js';
import { describeIssue } from '../http/input.js';
import { type ConnectionLimits, TokenBucket } from '../http/limits.js';
import { asImpartialError } from '../http/respond.js';
import { SerialQueue } from '../keyed-queue.js';
import { type Actor, type LiveClient, named, type Services } from '../services/index.js';

/** A client that reads slower than this many buffered bytes is dropped rather than letting memory grow. */
const MAX_BUFFERED = 32 * 1024 * 1024;
const HELLO_TIMEOUT_MS = 10_000;

const withRef = (ref: string | undefined) => (ref !== undefined ? { ref } : {});

/** What one connection is held to: its message rate and how often it is pinged. */
export type ConnectionPolicy = Pick<ConnectionLimits, 'wsMessagesPerSecond' | 'wsMessageBurst' | 'wsPingIntervalMs'>;

/**
 * One WebSocket: `hello` first (protocol version and image), then messages of that image's room,
 * each translated to a service call. Bad input gets an error message, never a crash. Messages over
 * the rate get a `busy` error; a client that keeps on (more refused than a burst holds, without
 * pausing) is closed with 1008. A peer that misses a ping until the next is dropped.
 */
export function handleConnection(
  ws: WebSocket,
  services: Services,
  connectionActor: Actor,
  policy: ConnectionPolicy,
): void {
  const id = randomBytes(6).toString('hex');
  let joined: { image: string; project: string; client: LiveClient; actor: Actor } | null = null;
  const send = (m: ServerMessage) => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED) {
      ws.close(1013, 'client too slow');
      return;
    }
    ws.send(JSON.stringify(m));
  };
  const fail = (code: ErrorCode, message: string, ref?: string) =>
    send({ type: 'error', code, message, ...withRef(ref) });
  const helloTimer = setTimeout(() => {
    if (joined) return;
    fail('bad-message', `no hello within ${HELLO_TIMEOUT_MS / 1000} s`);
    ws.close(4001, 'no hello');
  }, HELLO_TIMEOUT_MS);

  const rate = new TokenBucket(policy.wsMessagesPerSecond, policy.wsMessageBurst);
  let refused = 0;
  let answeredPing = true;
  ws.on('pong', () => {
    answeredPing = true;
  });
  const heartbeat = setInterval(() => {
    if (!answeredPing) return ws.terminate();
    answeredPing = false;
    ws.ping();
  }, policy.wsPingIntervalMs);

  const inOrder = new SerialQueue();
  let flooded = false;
  ws.on('message', (data, isBinary) => {
    if (ws.readyState !== ws.OPEN || flooded) return;
    if (!rate.take()) {
      if (++refused > policy.wsMessageBurst) {
        // What was taken in is answered first.
        flooded = true;
        void inOrder.run(async () => ws.close(1008, `sent more than ${policy.wsMessagesPerSecond} messages a second`));
        return;
      }
      return fail('busy', `over ${policy.wsMessagesPerSecond} messages a second: this one was dropped; slow down`);
    }
    if (rate.rested) refused = 0;
    if (isBinary) return fail('bad-message', 'messages are JSON text frames');
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.toString());
    } catch {
      return fail('bad-message', 'not valid JSON');
    }
    const result = ClientMessageSchema.safeParse(parsed);
    const given = (parsed as { ref?: unknown })?.ref;
    const ref = typeof given === 'string' ? given.slice(0, 100) : undefined;
    if (!result.success) return fail('bad-message', describeIssue(result.error), ref);
    const failed = (e: unknown) => {
      const err = asImpartialError(e);
      fail(err.code, err.message, ref);
    };
    // One message at a time, in the order they came: a client's strokes enter the log as it drew them.
    void inOrder.run(() => handle(result.data).catch(failed));
  });
  ws.on('close', () => {
    clearTimeout(helloTimer);
    clearInterval(heartbeat);
    if (joined) services.live.leave(joined.image, joined.client);
  });
  ws.on('error', () => {});

  async function handle(m: ClientMessage): Promise<void> {
    if (m.type === 'hello') {
      await hello(m);
      return;
    }
    if (m.type === 'ping') {
      send({ type: 'pong', server: Date.now(), ...(m.t !== undefined ? { t: m.t } : {}) });
      return;
    }
    if (!joined) throw new ImpartialError('bad-message', `send hello before ${m.type}`);
    const { image, project, client, actor } = joined;
    const from = { client, ...withRef('ref' in m ? m.ref : undefined) };
    switch (m.type) {
      case 'draw':
        await services.strokes.draw(actor, image, m.drawing, from);
        return;
      case 'outline':
        await services.strokes.outline(actor, image, m.outline.points, from);
        return;
      case 'undo':
      case 'redo':
        await services.strokes.undoRedo(actor, image, m.type, m.target, from);
        return;
      case 'view':
        await services.live.view(actor, image, client, m.view);
        return;
      case 'train-start':
        return services.training.start(actor, project, m.options ?? {}).then((job) => {
          send({ type: 'job', job, ...withRef(m.ref) });
        });
      case 'train-stop':
        send({ type: 'job', job: await services.training.stop(actor, project, m.job), ...withRef(m.ref) });
        return;
      case 'infer':
        send({ type: 'job', job: await services.inference.start(actor, { ...m.request, image }), ...withRef(m.ref) });
        return;
    }
  }

  async function hello(m: Extract<ClientMessage, { type: 'hello' }>): Promise<void> {
    if (joined) throw new ImpartialError('bad-message', 'hello was already sent on this connection');
    if (m.protocol !== PROTOCOL_VERSION) {
      fail(
        'protocol-mismatch',
        `this bridge speaks protocol ${PROTOCOL_VERSION} (server ${services.version}); ` +
          `the client sent ${m.protocol}. Update the client or the bridge.`,
      );
      ws.close(4002, 'protocol mismatch');
      return;
    }
    const name = m.name ?? `${m.client}-${id.slice(0, 4)}`;
    const actor = named(connectionActor, name, m.client);
    // An account's viewers go by the account's name, whatever name they give.
    const client: LiveClient = { id, name: actor.name, kind: m.client, send };
    // The welcome goes out from join, before anything else of the room.
    const welcome = await services.live.join(actor, m.image, client, m.since ?? 0);
    clearTimeout(helloTimer);
    joined = { image: welcome.image.id, project: welcome.image.project, client, actor };
  }
}
