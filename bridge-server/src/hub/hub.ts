import type { LogEntry, ServerMessage, ViewState } from '@impartial/shared';
import type { Publisher } from '../jobs/publisher.js';
import type { Store } from '../store/store.js';

/** One connected client of a room: a WebSocket viewer, or Fiji through the long-poll routes. */
export interface Client {
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  send(message: ServerMessage): void;
}

/** Events kept per room for clients that poll (Fiji) instead of holding a socket: at most this many... */
const EVENT_RING = 2000;
/** ...and this many bytes of JSON (a 20000-point stroke is ~400 KB; 2000 of them would be gigabytes). */
const EVENT_RING_BYTES = 8 * 1024 * 1024;

export interface RoomEvent {
  n: number;
  message: ServerMessage;
  bytes: number;
}

class Room {
  readonly clients = new Set<Client>();
  readonly views = new Map<string, { name: string; view: ViewState }>();
  readonly events: RoomEvent[] = [];
  private bytes = 0;
  /** Number of the latest event (the cursor a poller sends back). */
  n = 0;
  private readonly pollers = new Set<() => void>();

  record(message: ServerMessage): void {
    const event = { n: ++this.n, message, bytes: JSON.stringify(message).length };
    this.events.push(event);
    this.bytes += event.bytes;
    while (this.events.length > EVENT_RING || (this.bytes > EVENT_RING_BYTES && this.events.length > 1)) {
      this.bytes -= this.events.shift()!.bytes;
    }
    for (const wake of this.pollers) wake();
    this.pollers.clear();
  }

  /**
   * The first event after cursor `since`; waits up to timeoutMs for one. 'reset' when the cursor
   * is from another run of the bridge or the events after it have left the ring (the poller
   * reloads the state instead of missing them).
   */
  next(since: number, timeoutMs: number, signal?: AbortSignal): Promise<RoomEvent | 'reset' | null> {
    const oldest = this.events[0]?.n ?? this.n + 1;
    if (since > this.n || since < oldest - 1) return Promise.resolve('reset');
    const found = () => this.events.find((e) => e.n > since) ?? null;
    const now = found();
    if (now || timeoutMs <= 0) return Promise.resolve(now);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.pollers.delete(wake);
        resolve(found());
      };
      const wake = () => done();
      const timer = setTimeout(done, timeoutMs);
      this.pollers.add(wake);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

/**
 * Rooms per image: every message about an image goes to all its clients in one order (the
 * order the bridge produced them in), and into a ring of recent events for polling clients.
 */
export class Hub implements Publisher {
  private readonly rooms = new Map<string, Room>();
  private projectSends: Promise<void> = Promise.resolve();

  constructor(private readonly store: Store) {}

  room(imageId: string): Room {
    let r = this.rooms.get(imageId);
    if (!r) {
      r = new Room();
      this.rooms.set(imageId, r);
    }
    return r;
  }

  join(imageId: string, client: Client): void {
    this.room(imageId).clients.add(client);
    // After the joining client's welcome (sent as join returns), so that it knows its own id first.
    queueMicrotask(() => this.presence(imageId));
  }

  leave(imageId: string, client: Client): void {
    const r = this.rooms.get(imageId);
    if (!r) return;
    // By id: the room may hold a wrapper of the client (see LiveService.join).
    for (const c of r.clients) if (c.id === client.id) r.clients.delete(c);
    r.views.delete(client.id);
    this.presence(imageId);
  }

  /** Who is on the image, to everyone on it (not kept in the ring: a poller asks for nothing of it). */
  private presence(imageId: string): void {
    const r = this.room(imageId);
    const clients = [...r.clients].map((c) => ({ clientId: c.id, name: c.name, kind: c.kind }));
    for (const c of r.clients) c.send({ type: 'presence', clients });
  }

  toImage(imageId: string, message: ServerMessage): void {
    const r = this.room(imageId);
    r.record(message);
    for (const c of r.clients) c.send(message);
  }

  /** To every image of the project, once its images are read from the index; sends in the order asked. */
  toProject(projectId: string, message: ServerMessage): void {
    this.projectSends = this.projectSends
      .then(async () => {
        for (const image of await this.store.images.list(projectId)) this.toImage(image.id, message);
      })
      .catch((e: Error) => void process.stderr.write(`hub: project ${projectId}: ${e.message}\n`));
  }

  /** A new log entry: the sender's copy carries its ref (the acknowledgement). */
  entry(imageId: string, entry: LogEntry, sender?: Client, ref?: string): void {
    const r = this.room(imageId);
    const message: ServerMessage = { type: 'entry', entry };
    r.record(message);
    for (const c of r.clients) c.send(c.id === sender?.id && ref !== undefined ? { ...message, ref } : message);
  }

  /** A client's view, to everyone else in the room (follow mode). */
  view(imageId: string, from: { id: string; name: string }, view: ViewState): void {
    const r = this.room(imageId);
    r.views.set(from.id, { name: from.name, view });
    const message: ServerMessage = { type: 'view', clientId: from.id, name: from.name, view };
    r.record(message);
    for (const c of r.clients) if (c.id !== from.id) c.send(message);
  }

  views(imageId: string): Array<{ clientId: string; name: string; view: ViewState }> {
    return [...(this.rooms.get(imageId)?.views ?? new Map<string, { name: string; view: ViewState }>())].map(
      ([clientId, v]) => ({ clientId, ...v }),
    );
  }

  cursor(imageId: string): number {
    return this.room(imageId).n;
  }

  nextEvent(imageId: string, since: number, timeoutMs: number, signal?: AbortSignal) {
    return this.room(imageId).next(since, timeoutMs, signal);
  }
}
