import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { ImpartialError } from './errors.js';
import { registerFiji } from './fiji/index.js';
import { accountPage } from './http/account-page.js';
import { COMMON_HEADER_LINES, pagePolicy } from './http/headers.js';
import { landingPage } from './http/landing.js';
import {
  applyServerTimeouts,
  ConnectionGuard,
  type ConnectionLimits,
  DEFAULT_CONNECTION_LIMITS,
} from './http/limits.js';
import { OpenConnections } from './http/open-connections.js';
import { sendBytes } from './http/respond.js';
import { Router } from './http/router.js';
import { isLoopback, normalizeOrigin, type SecurityOptions } from './http/security.js';
import { httpHandler, upgradeHandler } from './http/server.js';
import { serveFile } from './http/static-files.js';
import { Hub } from './hub/hub.js';
import { RedisRelay } from './hub/relay.js';
import { DEFAULT_IMPORT_LIMITS, DEFAULT_URL_POLICY } from './imaging/sources/index.js';
import { JobManager } from './jobs/manager.js';
import { QueueRunner } from './jobs/queue.js';
import { fixedMonaiProject, type MonaiProjects, registerMonai, registerMonaiAuth } from './monai/index.js';
import { registerAccounts, registerRest, type TransportOptions } from './rest/index.js';
import { Access, AccountAccess, createServices, type Services, type UsersOptions } from './services/index.js';
import { Store } from './store/store.js';
import { StrokeLog } from './store/strokes/stroke-log.js';
import { BRIDGE_VERSION } from './version.js';
import { handleConnection } from './ws/connection.js';

export interface BridgeOptions {
  data: string;
  /** A PostgreSQL URL for the index (`--db`); default: SQLite in the data folder. */
  database?: string;
  /**
   * A Redis URL (`--queue`): training and inference go to `impartial worker` processes through a
   * BullMQ queue there, and room messages go between the bridge nodes that share the database
   * through its pub/sub. Nodes and workers share the data folder, or `objects`.
   */
  queue?: string;
  /**
   * An S3 URL (`--store s3://BUCKET/PREFIX?endpoint=URL`): images, models and predictions live
   * there (the data folder caches them), so workers and nodes need no shared folder.
   */
  objects?: string;
  /** Queued trainings checkpoint every this many steps (default 25). */
  checkpointEvery?: number;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** A fixed token, a random one (undefined), or none (null: --no-auth, loopback only). */
  token?: string | null;
  allowOrigins?: string[];
  /** Folders a client may import images from by path; none unless given. */
  importRoots?: string[];
  maxUploadMb?: number;
  /** Largest image an import takes, width x height x channels in millions. */
  maxImageMpx?: number;
  /** Hosts a URL import may reach although they are not public (loopback, private networks). */
  allowImportHosts?: string[];
  /** Bytes one URL import may read in all (default 16 GiB). */
  maxImportBytes?: number;
  /** Time limit of each request of a URL import, answer and body, in ms (default 60 s). */
  importRequestTimeoutMs?: number;
  /** Inference threads at once (default: the cores less one, 1 to 4); more requests queue. */
  maxInferenceThreads?: number;
  /** Jobs (trainings and inferences) running at once; more wait in line (default: no cap). */
  maxJobs?: number;
  version?: string;
  /** The project MONAI Label clients see as their datastore (made on first use). */
  monaiProject?: string;
  /** The built viewer page (viewer-plugin/bundle), served at /viewer/ (reached as /t/TOKEN/viewer/). */
  viewerDir?: string;
  /** Connection caps, WebSocket message rate and pings, server timeouts (defaults in http/limits.ts). */
  connectionLimits?: Partial<ConnectionLimits>;
  /** A multi-user bridge (`serve --users`): accounts, groups and work sessions instead of one token. */
  users?: UsersOptions | null;
}

export interface Bridge {
  /** Every use case, for in-process callers (the demo, tests) as for the transports. */
  services: Services;
  /** The data folder, absolute. */
  dataDir: string;
  /** Where images, models and predictions live when not in the data folder (`--store`), else null. */
  objects: string | null;
  url: string;
  /** The URL with the token, as printed for people. */
  publicUrl: string;
  /** The viewer page, with the token in its path. */
  viewerUrl: string;
  port: number;
  /** The bridge's one token; null under --no-auth and on a multi-user bridge (accounts sign in instead). */
  token: string | null;
  /** Pending scribble raster writes, written now (tests read labels/scribbles right after a stroke). */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** A WebSocket frame larger than this is refused (a 20 000-point stroke is about 400 KB). */
const MAX_WS_PAYLOAD = 4 * 1024 * 1024;
const MAX_JSON_BYTES = 8 * 1024 * 1024;

/**
 * Starts the bridge: the store and jobs behind the services, and one port for HTTP (REST, OME-Zarr,
 * Fiji, MONAI) and WebSocket.
 */
export async function startBridge(o: BridgeOptions): Promise<Bridge> {
  const users = o.users ?? null;
  if (!users && o.token === null && !isLoopback(o.host)) {
    throw new ImpartialError(
      'forbidden',
      `--no-auth is refused unless the bridge listens on loopback (127.0.0.1, ::1 or localhost), not ${o.host}`,
    );
  }
  const token = users ? null : o.token === undefined ? randomBytes(18).toString('base64url') : o.token;
  const version = o.version ?? BRIDGE_VERSION;
  // Other nodes may be writing uploads into the shared folder's tmp/: it is not emptied then.
  const store = await Store.open(o.data, {
    ...(o.database ? { database: o.database } : {}),
    ...(o.objects ? { objects: o.objects } : {}),
    keepTemp: !!o.queue,
  });
  const strokes = new StrokeLog(store);
  const hub = new Hub(store, (id, seq) => strokes.entries(id, seq));
  const relay = o.queue ? await RedisRelay.connect(o.queue, (e) => hub.deliver(e)) : null;
  // Names this node among the bridge nodes of a site (presence, job holds).
  const node = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  if (relay) hub.useRelay(relay, node);
  const queue = o.queue ? await QueueRunner.connect(o.queue, node) : null;
  const jobs = new JobManager(store, hub, {
    queue,
    ...(o.checkpointEvery !== undefined ? { checkpointEvery: o.checkpointEvery } : {}),
    ...(o.maxInferenceThreads !== undefined ? { maxInferenceThreads: o.maxInferenceThreads } : {}),
    ...(o.maxJobs !== undefined ? { maxJobs: o.maxJobs } : {}),
  });
  // With other nodes on the database, a running job may be theirs.
  const interrupted = relay ? 0 : await jobs.recover();
  const limits = {
    maxValues: (o.maxImageMpx ?? DEFAULT_IMPORT_LIMITS.maxValues / 1e6) * 1e6,
    url: {
      ...DEFAULT_URL_POLICY,
      allowHosts: o.allowImportHosts ?? [],
      ...(o.maxImportBytes !== undefined ? { maxBytes: o.maxImportBytes } : {}),
      ...(o.importRequestTimeoutMs !== undefined ? { timeoutMs: o.importRequestTimeoutMs } : {}),
    },
  };
  const access = users ? new AccountAccess(store.groups) : new Access();
  const services = createServices({ store, strokes, jobs, hub, access, version, limits }, o.importRoots ?? [], users);
  const { accounts, workSessions } = services;
  const security: SecurityOptions = {
    token,
    host: o.host,
    port: 0,
    allowOrigins: (o.allowOrigins ?? []).map(normalizeOrigin),
    accounts,
  };
  // What an account has open closes at once when it is disabled or a credential revoked.
  const open = new OpenConnections();
  accounts?.onRevoked((r) => open.revoke(r));
  // `impartial users disable` runs in another process: what it revokes is found here within seconds.
  const sweepTimer = accounts
    ? setInterval(() => {
        open
          .sweep((a) => accounts.stillValid(a))
          .catch((e) => process.stderr.write(`open connections: ${(e as Error).message}\n`));
      }, 3000)
    : null;
  sweepTimer?.unref();
  const transport: TransportOptions = {
    services,
    tempDir: store.layout.temp,
    maxUploadBytes: (o.maxUploadMb ?? 2048) * 1024 * 1024,
    maxJsonBytes: MAX_JSON_BYTES,
  };

  const router = new Router();
  // Allowed origins embed the viewer in frames; every page of ours says so in its policy.
  const policyOf = (html: string) => pagePolicy(html, security.allowOrigins);
  if (accounts) {
    // Sign-in comes first: the page is public and holds no data (it reads everything with the cookie).
    const page = accountPage(version, accounts.options.signup);
    const headers = { 'Content-Security-Policy': policyOf(page), 'Cache-Control': 'no-store' };
    router.public('GET', '/', ({ res }) => sendBytes(res, page, 'text/html; charset=utf-8', headers));
  } else {
    const landing = landingPage(version);
    const landingHeaders = { 'Content-Security-Policy': policyOf(landing) };
    router.on('GET', '/', ({ res }) => sendBytes(res, landing, 'text/html; charset=utf-8', landingHeaders));
  }
  // The viewer is files of the repository, not a code dependency (bridge-server never imports viewer-plugin).
  const viewerDir = o.viewerDir ?? fileURLToPath(new URL('../../viewer-plugin/bundle/', import.meta.url));
  // Its code holds no data and no secret: served without the token, so a reload of the page (which
  // takes the token out of its address) finds it; every data route stays behind the token.
  // A folder's address (the viewer's own, an example app's) serves its index.html.
  router.public('GET', '/viewer/*', ({ req, res, rest }) =>
    serveFile(req, res, viewerDir, !rest || rest.endsWith('/') ? `${rest}index.html` : rest, policyOf),
  );
  registerRest(router, transport);
  if (accounts && workSessions) registerAccounts(router, accounts, workSessions);
  registerFiji(router, services, token);
  registerMonaiAuth(router, accounts);
  // MONAI Label clients see one datastore, or on a multi-user bridge their current work session.
  const monaiProjects: MonaiProjects = workSessions
    ? {
        of: async (actor) => (await workSessions.ensure(actor)).project,
        isDatastore: (p) => workSessions.isSessionProject(p),
        stillCurrent: async (actor, p) =>
          (await accounts?.stillValid(actor.account!)) === true && (await workSessions.current(actor))?.project === p,
      }
    : fixedMonaiProject(services, o.monaiProject ?? 'monai');
  registerMonai(router, transport, monaiProjects);
  // Sessions are warned 5 minutes before they expire, and ended when they do; expired credentials go.
  const sessionTimer = workSessions
    ? setInterval(() => {
        accounts?.purgeExpired().catch((e) => process.stderr.write(`credentials: ${(e as Error).message}\n`));
        void workSessions.tick().catch((e) => process.stderr.write(`work sessions: ${(e as Error).message}\n`));
      }, workSessions.options.tickMs)
    : null;
  sessionTimer?.unref();

  const connectionLimits = { ...DEFAULT_CONNECTION_LIMITS, ...o.connectionLimits };
  // Checked each second, so the headers timeout holds to about a second (Node's default is 30 s).
  const server = createServer({ connectionsCheckingInterval: 1000 });
  applyServerTimeouts(server, connectionLimits);
  const guard = new ConnectionGuard(server, connectionLimits);
  const handle = httpHandler(router, security, guard, open);
  server.on('request', (req, res) => void handle(req, res));
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_PAYLOAD });
  server.on(
    'upgrade',
    upgradeHandler(wss, security, guard, (ws, actor) => {
      const forget = open.add(actor, () => ws.close(4401, 'signed out, or access changed: connect again'), true);
      ws.once('close', forget);
      handleConnection(ws, services, actor, connectionLimits);
    }),
  );
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\n${COMMON_HEADER_LINES}Connection: close\r\n\r\n`);
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
  const url = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;
  if (interrupted)
    process.stderr.write(`${interrupted} job(s) were running when the bridge last stopped; marked failed\n`);

  return {
    services,
    dataDir: store.layout.root,
    objects: store.files.where,
    url,
    port,
    token,
    publicUrl: token ? `${url}/?token=${encodeURIComponent(token)}` : `${url}/`,
    viewerUrl: token ? `${url}/t/${encodeURIComponent(token)}/viewer/` : `${url}/viewer/`,
    settle: () => strokes.settle(),
    async close() {
      if (sessionTimer) clearInterval(sessionTimer);
      if (sweepTimer) clearInterval(sweepTimer);
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      try {
        await jobs.shutdown();
        await strokes.settle();
      } finally {
        await strokes.close();
        hub.close();
        await relay?.close();
        await queue?.close();
        await store.close();
      }
    },
  };
}
