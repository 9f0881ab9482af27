import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Bridge, type BridgeOptions, startBridge } from '@impartial/bridge-server';
import {
  type ClientMessage,
  type ImageRecord,
  imagejHyperstack,
  PROTOCOL_VERSION,
  type ServerMessage,
  ServerMessageSchema,
  syntheticCells,
  writeTiff,
} from '@impartial/shared';
import WebSocket from 'ws';

export interface TestBridge {
  bridge: Bridge;
  dir: string;
  api(p: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

/** A real bridge on a free loopback port with its own data folder. */
export async function startTestBridge(options: Partial<BridgeOptions> = {}): Promise<TestBridge> {
  const dir = await mkdtemp(path.join(tmpdir(), 'impartial-bridge-'));
  const bridge = await startBridge({
    data: path.join(dir, 'data'),
    host: '127.0.0.1',
    port: 0,
    importRoots: [dir],
    ...options,
  });
  const api = (p: string, init: RequestInit = {}) =>
    fetch(`${bridge.url}${p}`, {
      ...init,
      headers: {
        ...(bridge.token ? { Authorization: `Bearer ${bridge.token}` } : {}),
        ...(init.headers as Record<string, string> | undefined),
      },
    });
  return {
    bridge,
    dir,
    api,
    async stop() {
      await bridge.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A synthetic 2-channel image as an ImageJ hyperstack TIFF (what a person would upload). Most of the
 * generator's pixels are above 1: by default they are clipped there (a bright, saturated image, what
 * the pixel checks of the viewer tests were made for); `unsaturated` scales by the brightest pixel
 * instead, which keeps the cells' texture (what the shipped models expect).
 */
export function syntheticTiff(
  size: number,
  seed: number,
  options: { unsaturated?: boolean; height?: number } = {},
): { bytes: Uint8Array; labels: ReturnType<typeof syntheticCells>['labels'] } {
  const height = options.height ?? size;
  const { image, labels } = syntheticCells({ width: size, height, channels: 2, seed });
  const n = size * height;
  let top = 1;
  if (options.unsaturated) for (const v of image.data) top = Math.max(top, v);
  const planes = [0, 1].map((c) =>
    Uint16Array.from(image.data.subarray(c * n, (c + 1) * n), (v) =>
      Math.round((Math.max(0, Math.min(top, v)) / top) * 60000),
    ),
  );
  return { bytes: writeTiff(imagejHyperstack(planes, size, height)), labels };
}

/** Creates a project and uploads one synthetic image over HTTP (see `syntheticTiff` for `options`). */
export async function projectWithImage(
  t: TestBridge,
  size = 128,
  seed = 1,
  project = 'p1',
  options: { unsaturated?: boolean; height?: number } = {},
): Promise<ImageRecord> {
  let r = await t.api('/api/projects', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'test', id: project }),
  });
  if (r.status !== 201 && r.status !== 409) throw new Error(`project: ${r.status} ${await r.text()}`);
  r = await t.api(`/api/projects/${project}/images?name=img${seed}`, {
    method: 'POST',
    headers: { 'Content-Type': 'image/tiff' },
    body: Buffer.from(syntheticTiff(size, seed, options).bytes),
  });
  if (r.status !== 201) throw new Error(`upload: ${r.status} ${await r.text()}`);
  return (await r.json()) as ImageRecord;
}

/** A real WebSocket client that records every message and can wait for one. */
export class TestClient {
  readonly messages: ServerMessage[] = [];
  private waiters: Array<{ pred: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }> = [];
  closed: { code: number; reason: string } | null = null;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const m = ServerMessageSchema.parse(JSON.parse(data.toString()));
      this.messages.push(m);
      const ready = this.waiters.filter((w) => w.pred(m));
      this.waiters = this.waiters.filter((w) => !ready.includes(w));
      for (const w of ready) w.resolve(m);
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
    });
  }

  static async open(bridge: Pick<Bridge, 'url' | 'token'>, headers: Record<string, string> = {}): Promise<TestClient> {
    const ws = new WebSocket(`${bridge.url.replace('http', 'ws')}/ws`, {
      headers: { ...(bridge.token ? { Authorization: `Bearer ${bridge.token}` } : {}), ...headers },
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
    return new TestClient(ws);
  }

  /** Opens, says hello and waits for the welcome. */
  static async join(
    bridge: Pick<Bridge, 'url' | 'token'>,
    image: string,
    name: string,
    since?: number,
    headers: Record<string, string> = {},
  ): Promise<TestClient> {
    const c = await TestClient.open(bridge, headers);
    c.send({
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      client: 'script',
      image,
      name,
      ...(since !== undefined ? { since } : {}),
    });
    await c.next((m) => m.type === 'welcome');
    return c;
  }

  send(m: ClientMessage | Record<string, unknown>): void {
    this.ws.send(JSON.stringify(m));
  }

  /** The first message (already received or coming) that matches. */
  next<T extends ServerMessage['type']>(
    pred: (m: ServerMessage) => boolean,
    timeoutMs = 30_000,
    type?: T,
  ): Promise<Extract<ServerMessage, { type: T }>> {
    const seen = this.messages.find(pred);
    if (seen) return Promise.resolve(seen as never);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `no matching message within ${timeoutMs} ms${type ? ` (${type})` : ''}; ` +
                `got ${this.messages.map((m) => m.type).join(', ')}`,
            ),
          ),
        timeoutMs,
      );
      this.waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as never);
        },
      });
    });
  }

  /** Like next, but only messages arriving after now. */
  upcoming(pred: (m: ServerMessage) => boolean, timeoutMs = 30_000): Promise<ServerMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching message within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  of<T extends ServerMessage['type']>(type: T): Array<Extract<ServerMessage, { type: T }>> {
    return this.messages.filter((m) => m.type === type) as never;
  }

  close(): void {
    this.ws.close();
  }
}

/** A stroke across the image: class 1 (cell) or 2 (background). */
export function line(x0: number, y0: number, x1: number, y1: number, cls = 1, width = 3) {
  return {
    op: 'add' as const,
    class: cls,
    width,
    points: [
      [x0, y0],
      [x1, y1],
    ] as Array<[number, number]>,
  };
}

/** The smallest training worth running in a test: a tiny net from random weights, a few steps. */
export const TINY_TRAINING = { steps: 3, depth: 2, base: 4, batchSize: 2, patch: 32, init: 'scratch' as const };

/** A cell stroke and a background stroke (what a training needs), acknowledged before this returns. */
export async function drawCellAndBackground(c: TestClient, at: [number, number] = [10, 10]): Promise<void> {
  const [x, y] = at;
  c.send({ type: 'draw', ref: 'fg', drawing: line(x, y, x + 30, y + 30, 1, 3) });
  c.send({ type: 'draw', ref: 'bg', drawing: line(x + 50, y, x + 80, y + 20, 2, 3) });
  await c.next((m) => m.type === 'entry' && m.ref === 'bg', 10_000, 'entry');
}

/** Accounts with a personal access token each, on a multi-user test bridge, and fetch as any of them. */
export async function accountClients(t: TestBridge, names: readonly string[]) {
  const accounts = t.bridge.services.accounts;
  if (!accounts) throw new Error('the bridge was started without users');
  const tokens: Record<string, string> = {};
  for (const name of names) {
    const user = await accounts.addUser(name, `password-of-${name}`);
    tokens[name] = (await accounts.issue(user, 'token', 'test')).secret;
  }
  const as = (who: string, p: string, init: RequestInit = {}) =>
    fetch(`${t.bridge.url}${p}`, {
      ...init,
      headers: { Authorization: `Bearer ${tokens[who]}`, ...(init.headers as Record<string, string> | undefined) },
    });
  const post = (who: string, p: string, body: unknown) =>
    as(who, p, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { accounts, tokens, as, post };
}

/** The folder an embedded bridge serves an OME-Zarr from (a bridge on object storage has none). */
export function folderOf(files: object): string {
  if ('folder' in files && typeof files.folder === 'string') return files.folder;
  throw new Error('these OME-Zarr files are in object storage, not a folder');
}
