import { ImpartialError } from '../errors.js';
import type { Fields } from './encoding.js';

/** Replies to requests with an id are remembered this long, so a repeated GET gets the same answer. */
const REPLAY_MS = 10 * 60_000;

/**
 * ImageJ's File.openUrlAsString sends each GET twice: an action with an id runs once, and its
 * repeat is answered with the first reply.
 */
export class ReplayCache {
  private readonly replies = new Map<string, { fields: Fields; t: number }>();

  /** Runs `action` once per (route, id); a repeated GET replays the first reply. */
  once(route: string, url: URL, action: () => Fields): Fields {
    const id = url.searchParams.get('id');
    if (!id || !/^[A-Za-z0-9_.-]{1,80}$/.test(id)) {
      throw new ImpartialError(
        'bad-request',
        'id=ID (1-80 letters, digits, _ . -) is required so a repeated request does nothing twice',
      );
    }
    const key = `${route}:${id}`;
    const seen = this.replies.get(key);
    if (seen) return seen.fields;
    this.sweep();
    const fields = action();
    this.replies.set(key, { fields, t: Date.now() });
    return fields;
  }

  sweep(): void {
    const old = Date.now() - REPLAY_MS;
    for (const [k, v] of this.replies) if (v.t < old) this.replies.delete(k);
  }
}

interface Pending {
  n: number;
  parts: Map<number, string>;
  reply?: Fields;
  t: number;
}

/** A stroke arrives as chunked GETs (macros cannot POST): parts are kept until all n are in. */
export class ChunkAssembler {
  private readonly pending = new Map<string, Pending>();

  /** Adds part i of n; returns the whole text once complete (and null while parts are missing). */
  add(key: string, i: number, n: number, data: string): { text: string | null; done?: Fields } {
    if (i >= n) throw new ImpartialError('bad-request', `chunk i=${i} but n=${n}`);
    let c = this.pending.get(key);
    if (!c) {
      this.sweep();
      c = { n, parts: new Map(), t: Date.now() };
      this.pending.set(key, c);
    }
    if (c.n !== n) throw new ImpartialError('bad-request', `stroke ${key} was announced with n=${c.n}, now n=${n}`);
    c.parts.set(i, data);
    if (c.reply) return { text: null, done: c.reply };
    if (c.parts.size < c.n) return { text: null };
    return { text: Array.from({ length: c.n }, (_, k) => c.parts.get(k)!).join('') };
  }

  received(key: string): { received: number; of: number } {
    const c = this.pending.get(key);
    return { received: c?.parts.size ?? 0, of: c?.n ?? 0 };
  }

  /** The reply of a complete stroke, repeated to the doubled GETs that follow. */
  complete(key: string, reply: Fields): void {
    const c = this.pending.get(key);
    if (c) c.reply = reply;
  }

  drop(key: string): void {
    this.pending.delete(key);
  }

  private sweep(): void {
    const old = Date.now() - REPLAY_MS;
    for (const [k, v] of this.pending) if (v.t < old) this.pending.delete(k);
  }
}
