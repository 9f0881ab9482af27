import {
  activeDrawings,
  type Drawing,
  HTTP_STATUS,
  type InferRequest,
  type LogEntry,
  PROTOCOL_VERSION,
  type Rect,
  ServerMessageSchema,
  type TrainRequest,
  type ViewState,
} from '@impartial/shared/protocol';

/**
 * The viewer's side of the bridge: one WebSocket per image, the stroke log kept in order, and
 * reconnection that asks for what was missed. Every server message is re-dispatched as an event
 * named by its type ('entry', 'train-progress', 'tiles', ...).
 */
export class BridgeClient extends EventTarget {
  readonly log: LogEntry[] = [];
  /** Strokes sent and not yet acknowledged (the "unsaved" state); an outline as its closed contour. */
  readonly pending = new Map<string, Drawing>();
  /** The points of each pending outline (sent again as an outline, not as its contour). */
  private readonly outlines = new Map<string, Array<[number, number]>>();
  private ws: WebSocket | null = null;
  private refs = 0;
  private closed = false;
  private retry = 250;

  constructor(
    readonly bridge: string,
    readonly token: string | null,
    readonly image: string,
    readonly name: string,
  ) {
    super();
  }

  get seq(): number {
    return this.log.at(-1)?.seq ?? 0;
  }
  get drawings() {
    return activeDrawings(this.log);
  }

  connect(): void {
    const u = new URL('/ws', this.bridge);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    if (this.token) u.searchParams.set('token', this.token);
    const ws = new WebSocket(u);
    this.ws = ws;
    ws.onopen = () => {
      this.retry = 250;
      ws.send(
        JSON.stringify({
          type: 'hello',
          protocol: PROTOCOL_VERSION,
          client: 'viewer',
          image: this.image,
          name: this.name,
          since: this.seq,
        }),
      );
    };
    ws.onmessage = (ev) => this.receive(String(ev.data));
    ws.onclose = () => {
      this.dispatchEvent(new CustomEvent('connection', { detail: { connected: false } }));
      this.retry = Math.min(this.retry * 2, 8000);
      if (!this.closed) setTimeout(() => this.connect(), this.retry);
    };
  }

  close(): void {
    this.closed = true;
    this.ws?.close();
  }

  private receive(text: string): void {
    const parsed = ServerMessageSchema.safeParse(JSON.parse(text));
    if (!parsed.success) return;
    const m = parsed.data;
    if (m.type === 'welcome') {
      this.project = m.image.project;
      this.clientId = m.clientId;
      for (const e of m.entries) {
        if (e.seq > this.seq) this.log.push(e);
        // Saved before the connection dropped, acknowledgement lost: not to be sent again.
        if (e.ref !== undefined) this.settle(e.ref);
      }
      this.dispatchEvent(new CustomEvent('connection', { detail: { connected: true } }));
      // Strokes sent while disconnected go out again (each carries its own ref; the bridge adds a ref once).
      for (const [ref, d] of this.pending) this.sendStroke(ref, d);
    } else if (m.type === 'entry') {
      if (m.entry.seq > this.seq) this.log.push(m.entry);
      if (m.ref) this.settle(m.ref);
    } else if (m.type === 'error' && m.ref !== undefined && HTTP_STATUS[m.code] < 500) {
      // Refused (out of the image, too large): sending it again would be refused again.
      this.settle(m.ref);
    }
    this.dispatchEvent(new CustomEvent(m.type, { detail: m }));
  }

  private send(m: object): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(m));
    return true;
  }

  draw(drawing: Drawing): string {
    const ref = this.nextRef();
    this.pending.set(ref, drawing);
    this.sendStroke(ref, drawing);
    return ref;
  }

  /**
   * Sends a closed cell outline (at least 3 points); the bridge adds its strokes (skeleton and
   * inner ring as cell, border as background), which undo and redo take as one.
   */
  outline(points: Array<[number, number]>): string {
    const ref = this.nextRef();
    this.outlines.set(ref, points);
    const contour: Drawing = { op: 'add', class: 1, width: 1, points: [...points, points[0]!] };
    this.pending.set(ref, contour);
    this.sendStroke(ref, contour);
    return ref;
  }

  private nextRef(): string {
    return `${this.name}-${Date.now().toString(36)}-${this.refs++}`;
  }

  private sendStroke(ref: string, drawing: Drawing): void {
    const outline = this.outlines.get(ref);
    if (outline) this.send({ type: 'outline', ref, outline: { points: outline } });
    else this.send({ type: 'draw', ref, drawing });
  }

  private settle(ref: string): void {
    this.pending.delete(ref);
    this.outlines.delete(ref);
  }

  /** This connection's id on the bridge (from the welcome). */
  clientId: string | null = null;
  /** The image's project (from the welcome). */
  project: string | null = null;

  /** A REST call to the bridge with this viewer's token; JSON in and out, the bridge's error message on failure. */
  async rest<T>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await fetch(new URL(path, this.bridge), {
      method,
      headers: {
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (!r.ok) {
      const text = await r.text();
      let message = text;
      try {
        message = (JSON.parse(text) as { error: { message: string } }).error.message;
      } catch {
        /* not the bridge's JSON error */
      }
      throw new Error(`${method} ${path}: ${message}`);
    }
    return (await r.json()) as T;
  }

  /** Bytes of a bridge file as an object URL for an <img> (which cannot send the token). */
  async objectUrl(path: string): Promise<string> {
    const r = await fetch(new URL(path, this.bridge), {
      headers: this.token ? { Authorization: `Bearer ${this.token}` } : {},
    });
    if (!r.ok) throw new Error(`GET ${path}: ${r.status}`);
    return URL.createObjectURL(await r.blob());
  }

  /** Makes a model version current for the project (REST: there is no socket message for it). */
  async setCurrentModel(model: string): Promise<void> {
    if (!this.project) throw new Error('not connected yet');
    await this.rest('PUT', `/api/projects/${this.project}/current`, { model });
  }

  undo(): void {
    this.send({ type: 'undo' });
  }
  redo(): void {
    this.send({ type: 'redo' });
  }
  view(view: ViewState): void {
    this.send({ type: 'view', view });
  }
  train(options: TrainRequest = {}): void {
    this.send({ type: 'train-start', options });
  }
  stopTraining(): void {
    this.send({ type: 'train-stop' });
  }
  infer(request: Omit<InferRequest, 'image'> = {}): void {
    this.send({ type: 'infer', request });
  }
  /** Asks for a prediction, `viewport` first when given; `passes` and `dropout` only when set. */
  inferView(viewport: Rect | undefined, passes?: number, dropout?: boolean): void {
    this.infer({ ...(viewport ? { viewport } : {}), ...(passes ? { passes } : {}), ...(dropout ? { dropout } : {}) });
  }
}
