import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { type BridgeContext, handleConnection } from '../hub/connection.js';
import { Hub } from '../hub/hub.js';
import { JobManager } from '../jobs/manager.js';
import { MonaiApp } from '../monai/app.js';
import { registerMonaiDatastore } from '../monai/datastore-routes.js';
import { registerMonaiTasks } from '../monai/task-routes.js';
import { BridgeError } from '../store/errors.js';
import { Store } from '../store/store.js';
import { StrokeLog } from '../store/strokes.js';
import { registerApi } from './api.js';
import { registerFiji, sendFijiError } from './fiji.js';
import { landingPage } from './landing.js';
import { STATUS, sendBytes, sendError } from './respond.js';
import { Router } from './router.js';
import { checkHostAndOrigin, checkToken, isLoopback, normalizeOrigin, type SecurityOptions } from './security.js';
import { serveFile } from './static-files.js';

export interface BridgeOptions {
  data: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** A fixed token, a random one (undefined), or none (null: --no-auth, loopback only). */
  token?: string | null;
  allowOrigins?: string[];
  importRoots?: string[];
  maxUploadMb?: number;
  version?: string;
  /** The project MONAI Label clients see as their datastore (made on first use). */
  monaiProject?: string;
  /** The built viewer page (viewer-plugin/bundle), served at /viewer/ (reached as /t/TOKEN/viewer/). */
  viewerDir?: string;
}

export interface Bridge extends BridgeContext {
  url: string;
  /** The URL with the token, as printed for people. */
  publicUrl: string;
  /** The viewer page, with the token in its path. */
  viewerUrl: string;
  port: number;
  token: string | null;
  close(): Promise<void>;
}

/** A WebSocket frame larger than this is refused (a 20 000-point stroke is about 400 KB). */
const MAX_WS_PAYLOAD = 4 * 1024 * 1024;
const MAX_JSON_BYTES = 8 * 1024 * 1024;

/** `/t/TOKEN/rest` -> token and `/rest`: how file URLs for ImageJ carry the token (they must end in .tif). */
function pathToken(url: URL): string | null {
  const m = /^\/t\/([^/]+)(\/.*)$/.exec(url.pathname);
  if (!m) return null;
  url.pathname = m[2]!;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return m[1]!;
  }
}

function refuseUpgrade(socket: Duplex, e: BridgeError): void {
  const status = STATUS[e.code];
  const body = JSON.stringify({ error: { code: e.code, message: e.message } });
  socket.end(
    `HTTP/1.1 ${status} ${e.code}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Starts the bridge: one port for HTTP (REST, OME-Zarr, Fiji) and WebSocket sync. */
export async function startBridge(o: BridgeOptions): Promise<Bridge> {
  if (o.token === null && !isLoopback(o.host))
    throw new BridgeError(
      'forbidden',
      `--no-auth is refused unless the bridge listens on loopback (127.0.0.1, ::1 or localhost), not ${o.host}`,
    );
  const token = o.token === undefined ? randomBytes(18).toString('base64url') : o.token;
  const version = o.version ?? '0.1.0';
  const store = new Store(o.data);
  const strokes = new StrokeLog(store);
  const hub = new Hub(store);
  const jobs = new JobManager(store, strokes, hub);
  const interrupted = jobs.recover();
  const ctx: BridgeContext = { store, strokes, jobs, hub, version };
  const security: SecurityOptions = {
    token,
    host: o.host,
    port: 0,
    allowOrigins: (o.allowOrigins ?? []).map(normalizeOrigin),
  };

  const router = new Router();
  router.on('GET', '/', ({ res }) => sendBytes(res, landingPage(version), 'text/html; charset=utf-8'));
  // The viewer is files of the repository, not a code dependency (bridge-server never imports viewer-plugin).
  const viewerDir = o.viewerDir ?? fileURLToPath(new URL('../../../viewer-plugin/bundle/', import.meta.url));
  router.on('GET', '/viewer/*', async ({ req, res, rest }) => serveFile(req, res, viewerDir, rest || 'index.html'));
  registerApi(router, ctx, {
    importRoots: o.importRoots ?? [process.cwd()],
    maxUploadBytes: (o.maxUploadMb ?? 2048) * 1024 * 1024,
    maxJsonBytes: MAX_JSON_BYTES,
  });
  registerFiji(router, ctx, token);
  const monai = new MonaiApp(ctx, o.monaiProject ?? 'monai');
  registerMonaiDatastore(router, monai, (o.maxUploadMb ?? 2048) * 1024 * 1024);
  registerMonaiTasks(router, monai);

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    let url: URL | null = null;
    try {
      url = new URL(req.url ?? '/', 'http://bridge');
      const fromPath = pathToken(url);
      if (fromPath !== null) req.headers.authorization = fromPath;
      // The ImPartial Fiji plugin's cloud mode puts every MONAI Label call under /proxy.
      if (url.pathname.startsWith('/proxy/')) url.pathname = url.pathname.slice('/proxy'.length);
      const corsOrigin = checkHostAndOrigin(req, security);
      if (corsOrigin) {
        res.setHeader('Access-Control-Allow-Origin', corsOrigin);
        res.setHeader('Vary', 'Origin');
        res.setHeader('Access-Control-Expose-Headers', 'ETag, Content-Length');
      }
      if (req.method === 'OPTIONS') {
        res.writeHead(204, {
          'Access-Control-Allow-Methods': 'GET, HEAD, POST, PUT, DELETE, OPTIONS',
          'Access-Control-Allow-Headers': 'Authorization, Content-Type, If-None-Match',
          'Access-Control-Max-Age': '600',
        });
        res.end();
        return;
      }
      checkToken(req, url, security);
      if (!(await router.dispatch(req, res, url)))
        throw new BridgeError('not-found', `${url.pathname} is not a route of this bridge`);
    } catch (e) {
      if (url?.pathname.startsWith('/fiji/') && e instanceof BridgeError && !res.headersSent) sendFijiError(res, e);
      else sendError(res, e);
      // Drain what the client is still sending so the socket is not left half-read.
      req.resume();
    }
  };

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_PAYLOAD });
  wss.on('connection', (ws) => handleConnection(ws, ctx));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    try {
      const url = new URL(req.url ?? '/', 'http://bridge');
      const fromPath = pathToken(url);
      if (fromPath !== null) req.headers.authorization = fromPath;
      checkHostAndOrigin(req, security);
      checkToken(req, url, security);
      if (url.pathname !== '/ws')
        throw new BridgeError('not-found', `WebSocket connections go to /ws, not ${url.pathname}`);
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    } catch (e) {
      refuseUpgrade(socket, e instanceof BridgeError ? e : new BridgeError('internal', (e as Error).message));
    }
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  security.port = port;
  const hostInUrl = o.host.includes(':') ? `[${o.host}]` : o.host;
  const url = `http://${hostInUrl}:${port}`;
  if (interrupted)
    process.stderr.write(`${interrupted} job(s) were running when the bridge last stopped; marked failed\n`);

  return {
    ...ctx,
    url,
    port,
    token,
    publicUrl: token ? `${url}/?token=${encodeURIComponent(token)}` : `${url}/`,
    viewerUrl: token ? `${url}/t/${encodeURIComponent(token)}/viewer/` : `${url}/viewer/`,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await jobs.shutdown();
      await strokes.settle();
      store.close();
    },
  };
}
