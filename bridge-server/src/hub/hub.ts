import type { LogEntry, ServerMessage, ViewState } from '@impartial/shared';
import type { Publisher } from '../jobs/publisher.js';
import { SerialQueue } from '../keyed-queue.js';
import type { Store } from '../store/store.js';
import type { Envelope, Relay } from './relay.js';

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

/** How long entries wait for one missing before it (lost between nodes) before it is read from the index. */
const GAP_MS = 300;

/** Between bridge nodes: each tells its clients of each room this often... */
const PRESENCE_MS = 5000;
/** ...and a node not heard of for this long (it stopped) is taken off the room's presence. */
const PRESENCE_LAPSE_MS = 3 * PRESENCE_MS;

type PresenceClient = Extract<ServerMessage, { type: 'presence' }>['clients'][number];

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
  /** Between bridge nodes: the newest entry delivered here (undefined until a client's welcome fixes it)... */
  delivered: number | undefined;
  /** ...and entries that came before one missing before them, by sequence. */
  readonly waiting = new Map<number, Envelope>();
  gapTimer: NodeJS.Timeout | undefined;
  /** Other nodes' clients of the room, by node, with when that node last told them. */
  readonly remote = new Map<string, { clients: PresenceClient[]; at: number }>();

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
 * With several bridge nodes, messages go through the relay to every node; entries are delivered
 * in sequence order there, so every client of every node sees one order (one missing for long
 * is read from the index).
 */
export class Hub implements Publisher {
  private readonly rooms = new Map<string, Room>();
  private readonly projectSends = new SerialQueue();
  private relay: Relay | null = null;
  /** This node's name among the nodes of a relay. */
  private node = '';
  private presenceTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    /** The log's entries of an image after a sequence number (what a relay lost). */
    private readonly entriesAfter: (imageId: string, seq: number) => Promise<LogEntry[]> = async () => [],
  ) {}

  /** From now on messages go through the relay (several bridge nodes); `node` names this one. */
  useRelay(relay: Relay, node: string): void {
    this.relay = relay;
    this.node = node;
    this.presenceTimer = setInterval(() => this.tellPresence(), PRESENCE_MS);
    this.presenceTimer.unref();
  }

  close(): void {
    clearInterval(this.presenceTimer);
  }

  /** What a relay brings: from any node, this one included. */
  deliver(e: Envelope): void {
    if (e.message.type === 'entry') this.deliverEntry(e);
    else if (e.message.type === 'view') this.showView(e.image, e.message);
    else if (e.message.type === 'presence') this.presenceFrom(e.image, e.node, e.message.clients, e.ask);
    else this.deliverLocal(e);
  }

  /** Another node's clients of a room (a node's own presence is already with its clients). */
  private presenceFrom(imageId: string, node: string | undefined, clients: PresenceClient[], ask?: boolean): void {
    if (!node || node === this.node) return;
    const r = this.room(imageId);
    const before = JSON.stringify(r.remote.get(node)?.clients ?? []);
    if (clients.length) r.remote.set(node, { clients, at: Date.now() });
    else r.remote.delete(node);
    if (ask && r.clients.size) this.announce(imageId, r);
    // A node tells its clients every few seconds: the clients here hear of changes only.
    if (JSON.stringify(clients) !== before) this.showPresence(imageId);
  }

  /** Every room's clients here, to the other nodes; nodes not heard of for a while leave the presence. */
  private tellPresence(): void {
    const lapsed = Date.now() - PRESENCE_LAPSE_MS;
    for (const [imageId, r] of this.rooms) {
      if (r.clients.size) this.announce(imageId, r);
      let changed = false;
      for (const [node, part] of r.remote) {
        if (part.at >= lapsed) continue;
        r.remote.delete(node);
        changed = true;
      }
      if (changed) this.showPresence(imageId);
    }
  }

  private announce(imageId: string, r: Room, ask = false): void {
    const clients = [...r.clients].map((c) => ({ clientId: c.id, name: c.name, kind: c.kind }));
    this.relay?.publish({ image: imageId, message: { type: 'presence', clients }, node: this.node, ask });
  }

  /**
   * A client here has its welcome: the room's entries start after `seq` when none came before
   * (what the welcome holds is not delivered again).
   */
  welcomed(imageId: string, seq: number): void {
    const r = this.room(imageId);
    if (!this.relay || r.delivered !== undefined) return;
    r.delivered = seq;
    this.flushEntries(imageId, r);
  }

  private deliverLocal(e: Envelope): void {
    const r = this.room(e.image);
    r.record(e.message);
    // The sender's copy of an entry carries its ref (the acknowledgement).
    const acked = e.message.type === 'entry' && e.ref !== undefined ? { ...e.message, ref: e.ref } : e.message;
    for (const c of r.clients) c.send(c.id === e.sender ? acked : e.message);
  }

  private deliverEntry(e: Envelope): void {
    const r = this.room(e.image);
    const seq = (e.message as Extract<ServerMessage, { type: 'entry' }>).entry.seq;
    if (r.delivered !== undefined && seq <= r.delivered) return;
    r.waiting.set(seq, e);
    this.flushEntries(e.image, r);
  }

  private flushEntries(imageId: string, r: Room): void {
    if (r.delivered === undefined) return;
    for (let next = r.waiting.get(r.delivered + 1); next; next = r.waiting.get(r.delivered + 1)) {
      r.waiting.delete(r.delivered + 1);
      r.delivered++;
      this.deliverLocal(next);
    }
    for (const seq of r.waiting.keys()) if (seq <= r.delivered) r.waiting.delete(seq);
    clearTimeout(r.gapTimer);
    r.gapTimer = r.waiting.size ? setTimeout(() => void this.fillGap(imageId, r), GAP_MS) : undefined;
  }

  /** Entries that waited too long for one before them: the missing ones come from the index. */
  private async fillGap(imageId: string, r: Room): Promise<void> {
    if (r.delivered === undefined) return;
    try {
      for (const entry of await this.entriesAfter(imageId, r.delivered)) {
        if (!r.waiting.has(entry.seq)) r.waiting.set(entry.seq, { image: imageId, message: { type: 'entry', entry } });
      }
    } catch (e) {
      process.stderr.write(`hub: image ${imageId}: ${(e as Error).message}\n`);
    }
    this.flushEntries(imageId, r);
  }

  private send(e: Envelope): void {
    if (this.relay) this.relay.publish(e);
    else if (e.message.type === 'view') this.showView(e.image, e.message);
    else this.deliverLocal(e);
  }

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

  /**
   * A room's clients here changed: the other nodes are told (asked for theirs when this node has
   * heard of none yet), and everyone here is shown who is on the image.
   */
  private presence(imageId: string): void {
    const r = this.room(imageId);
    if (this.relay) this.announce(imageId, r, r.remote.size === 0);
    this.showPresence(imageId);
  }

  /** Who is on the image, on every node, to everyone on it here (not in the ring: pollers ask nothing of it). */
  private showPresence(imageId: string): void {
    const r = this.room(imageId);
    const here = [...r.clients].map((c) => ({ clientId: c.id, name: c.name, kind: c.kind }));
    const clients = [...here, ...[...r.remote.values()].flatMap((part) => part.clients)];
    for (const c of r.clients) c.send({ type: 'presence', clients });
  }

  toImage(imageId: string, message: ServerMessage): void {
    this.send({ image: imageId, message });
  }

  /** To every image of the project, once its images are read from the index; sends in the order asked. */
  toProject(projectId: string, message: ServerMessage): void {
    this.projectSends
      .run(async () => {
        for (const image of await this.store.images.list(projectId)) this.toImage(image.id, message);
      })
      .catch((e: Error) => void process.stderr.write(`hub: project ${projectId}: ${e.message}\n`));
  }

  /** A new log entry: the sender's copy carries its ref (the acknowledgement). */
  entry(imageId: string, entry: LogEntry, sender?: Client, ref?: string): void {
    this.send({ image: imageId, message: { type: 'entry', entry }, ...envelopeSender(sender, ref) });
  }

  /** A client's view, to everyone else in the room (follow mode). */
  view(imageId: string, from: { id: string; name: string }, view: ViewState): void {
    this.send({ image: imageId, message: { type: 'view', clientId: from.id, name: from.name, view } });
  }

  private showView(imageId: string, message: Extract<ServerMessage, { type: 'view' }>): void {
    const r = this.room(imageId);
    r.views.set(message.clientId, { name: message.name, view: message.view });
    r.record(message);
    for (const c of r.clients) if (c.id !== message.clientId) c.send(message);
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

const envelopeSender = (sender?: Client, ref?: string) => ({
  ...(sender ? { sender: sender.id } : {}),
  ...(ref !== undefined ? { ref } : {}),
});
