import type { ServerMessage } from '@impartial/shared';
import { Redis } from 'ioredis';
import { badRequest, ImpartialError } from '../errors.js';
import { redacted } from '../store/database/open.js';

/**
 * A room message on its way between bridge nodes; `sender` and `ref` mark the acknowledgement of an
 * entry. A presence message carries one node's own clients of the room, from `node`; with `ask`,
 * the other nodes answer with theirs.
 */
export interface Envelope {
  image: string;
  message: ServerMessage;
  sender?: string;
  ref?: string;
  node?: string;
  ask?: boolean;
}

/** Carries room messages to every bridge node, this one included. */
export interface Relay {
  publish(envelope: Envelope): void;
  close(): Promise<void>;
}

const CHANNEL = 'impartial:rooms';

/**
 * Redis pub/sub between the bridge nodes of one site: every node publishes what happens in a
 * room and delivers what any node published (its own included) to its own clients. Pub/sub keeps
 * no history: what a node misses (a restart, a dropped connection) its clients get again from the
 * index (entries by sequence).
 */
export class RedisRelay implements Relay {
  private readonly pub: Redis;
  private readonly sub: Redis;

  private constructor(url: string, deliver: (envelope: Envelope) => void) {
    const options = { maxRetriesPerRequest: null, lazyConnect: true };
    this.pub = new Redis(url, options);
    this.sub = new Redis(url, options);
    for (const c of [this.pub, this.sub]) c.on('error', (e: Error) => process.stderr.write(`redis: ${e.message}\n`));
    this.sub.on('message', (_channel: string, text: string) => {
      try {
        deliver(JSON.parse(text) as Envelope);
      } catch (e) {
        process.stderr.write(`redis relay: ${(e as Error).message}\n`);
      }
    });
  }

  /** Connected and subscribed when it resolves. */
  static async connect(url: string, deliver: (envelope: Envelope) => void): Promise<RedisRelay> {
    if (!/^rediss?:\/\//.test(url)) throw badRequest(`--queue must be a redis:// URL, got ${redacted(url)}`);
    const relay = new RedisRelay(url, deliver);
    try {
      await Promise.all([relay.pub.connect(), relay.sub.connect()]);
      await relay.sub.subscribe(CHANNEL);
    } catch (e) {
      await relay.close();
      throw new ImpartialError('unreachable', `Redis at ${redacted(url)}: ${(e as Error).message}`);
    }
    return relay;
  }

  publish(envelope: Envelope): void {
    this.pub.publish(CHANNEL, JSON.stringify(envelope)).catch((e: Error) => {
      process.stderr.write(`redis relay: ${e.message}\n`);
    });
  }

  async close(): Promise<void> {
    this.sub.disconnect();
    this.pub.disconnect();
  }
}
