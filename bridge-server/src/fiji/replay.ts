import { ImpartialError } from '../errors.js';
import type { Fields } from './encoding.js';

/** Replies to requests with an id are remembered this long, so a repeated GET gets the same answer. */
const REPLAY_MS = 10 * 60_000;
/** Replies remembered at most (the oldest go first): a macro sends a few a second. */
const MAX_REPLIES = 10_000;
/** Strokes being reassembled at most, and their text together (a 20000-point stroke is ~300 KB). */
const MAX_PENDING_STROKES = 1_000;
const MAX_PENDING_BYTES = 64 * 1024 * 1024;

const busy = (what: string) =>
  new ImpartialError('busy', `too many ${what} in flight on this bridge; send fewer at once and try again`);

/**
 * ImageJ's File.openUrlAsString sends each GET twice, sometimes before the first is answered:
 * an action with an id runs once, and its repeat is answered with the first reply (the same
 * promise while it is still running). A failed action is forgotten, so a retry runs it again.
 */
export class ReplayCache {
  private readonly replies = new Map<string, { fields: Promise<Fields>; t: number }>();

  /** `who`: whose request it is (an account's id on a multi-user bridge): one account never gets another's reply. */
  once(route: string, url: URL, action: () => Fields | Promise<Fields>, who = ''): Promise<Fields> {
    const id = url.searchParams.get('id');
    if (!id || !/^[A-Za-z0-9_.-]{1,80}$/.test(id)) {
      throw new ImpartialError(
        'bad-request',
        'id=ID (1-80 letters, digits, _ . -) is required so a repeated request does nothing twice',
      );
    }
    const key = `${who}:${route}:${url.searchParams.get('image') ?? ''}:${id}`;
    const seen = this.replies.get(key);
    if (seen) return seen.fields;
    this.sweep();
    const fields = Promise.resolve().then(action);
    this.replies.set(key, { fields, t: Date.now() });
    fields.catch(() => this.replies.delete(key));
    return fields;
  }

  private sweep(): void {
    const old = Date.now() - REPLAY_MS;
    for (const [k, v] of this.replies) if (v.t < old || this.replies.size >= MAX_REPLIES) this.replies.delete(k);
  }
}

interface Pending {
  n: number;
  parts: Map<number, string>;
  bytes: number;
  t: number;
}

interface Completed {
  n: number;
  /** The stroke's reply (a promise while it is being added), repeated to the doubled GETs that follow. */
  reply: Promise<Fields>;
  t: number;
}

/**
 * A stroke arrives as chunked GETs (macros cannot POST): parts are kept until all n are in. Only
 * strokes still arriving count against the caps; complete ones keep just their reply, among the
 * MAX_REPLIES newest, so a macro may send any number of strokes one after another.
 */
export class ChunkAssembler {
  private readonly pending = new Map<string, Pending>();
  private readonly completed = new Map<string, Completed>();
  private bytes = 0;

  /**
   * Adds part i of n. Returns the whole text the first time every part is in (the caller must
   * then call `complete` at once); the reply of a stroke already complete; or neither.
   */
  add(key: string, i: number, n: number, data: string): { text: string | null; done?: Promise<Fields> } {
    if (i >= n) throw new ImpartialError('bad-request', `chunk i=${i} but n=${n}`);
    const done = this.completed.get(key);
    if (done) {
      if (done.n !== n) throw announcedAs(key, done.n, n);
      return { text: null, done: done.reply };
    }
    let c = this.pending.get(key);
    if (c && c.n !== n) throw announcedAs(key, c.n, n);
    if (!c?.parts.has(i) && this.bytes + data.length > MAX_PENDING_BYTES) throw busy('stroke chunks');
    if (!c) {
      this.sweep();
      if (this.pending.size >= MAX_PENDING_STROKES) throw busy('strokes');
      c = { n, parts: new Map(), bytes: 0, t: Date.now() };
      this.pending.set(key, c);
    }
    if (!c.parts.has(i)) {
      c.parts.set(i, data);
      c.bytes += data.length;
      this.bytes += data.length;
    }
    if (c.parts.size < c.n) return { text: null };
    return { text: Array.from({ length: c.n }, (_, k) => c.parts.get(k)!).join('') };
  }

  received(key: string): { received: number; of: number } {
    const c = this.pending.get(key) ?? this.completed.get(key);
    if (!c) return { received: 0, of: 0 };
    return { received: 'parts' in c ? c.parts.size : c.n, of: c.n };
  }

  /** The reply of a complete stroke: its parts are let go, the reply kept for the doubled GETs. */
  complete(key: string, reply: Promise<Fields>): void {
    const c = this.pending.get(key);
    if (!c) return;
    this.drop(key);
    if (this.completed.size >= MAX_REPLIES) this.completed.delete(this.completed.keys().next().value!);
    this.completed.set(key, { n: c.n, reply, t: Date.now() });
    reply.catch(() => this.completed.delete(key)); // a failed stroke may be sent again
  }

  drop(key: string): void {
    const c = this.pending.get(key);
    if (c) this.bytes -= c.bytes;
    this.pending.delete(key);
  }

  private sweep(): void {
    const old = Date.now() - REPLAY_MS;
    for (const [k, v] of this.pending) if (v.t < old) this.drop(k);
    for (const [k, v] of this.completed) if (v.t < old) this.completed.delete(k);
  }
}

const announcedAs = (key: string, was: number, now: number) =>
  new ImpartialError('bad-request', `stroke ${key} was announced with n=${was}, now n=${now}`);
