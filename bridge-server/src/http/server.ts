import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import { BusyError, ImpartialError } from '../errors.js';
import { sendFijiError } from '../fiji/index.js';
import type { Actor } from '../services/index.js';
import { COMMON_HEADER_LINES, setCommonHeaders } from './headers.js';
import type { ConnectionGuard } from './limits.js';
import type { OpenConnections } from './open-connections.js';
import { asImpartialError, sendError, sendJson, statusOf } from './respond.js';
import type { Router } from './router.js';
import { authenticate, changesState, checkCrossSite, checkHostAndOrigin, type SecurityOptions } from './security.js';

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

/** The request's URL with a path token moved into its Authorization header. */
function requestUrl(req: IncomingMessage): URL {
  const url = new URL(req.url ?? '/', 'http://bridge');
  const fromPath = pathToken(url);
  if (fromPath !== null) req.headers.authorization = fromPath;
  return url;
}

/**
 * Every HTTP request passes here: the connection cap, Host and Origin are checked, CORS answered, a
 * state-changing request refused when another site's page sent it, credentials turned into the actor
 * (the one place that decides who is asking; public routes, the viewer's files, need none), then the
 * router runs the route. Errors become the typed answer of their code (key=value lines for Fiji's routes).
 */
export function httpHandler(router: Router, security: SecurityOptions, guard: ConnectionGuard, open: OpenConnections) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let url: URL | null = null;
    setCommonHeaders(res);
    try {
      guard.checkConnection(req.socket);
      url = requestUrl(req);
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
      if (changesState(req.method, url.pathname)) checkCrossSite(req, `${req.method} ${url.pathname}`, security);
      const actor = router.isPublic(req.method, url.pathname) ? null : await authenticate(req, url, security);
      // A long poll of an account that loses access ends at once (its socket is closed).
      const forget = actor ? open.add(actor, () => !res.writableEnded && req.socket.destroy()) : null;
      try {
        if (!(await router.dispatch(actor, req, res, url))) {
          throw new ImpartialError('not-found', `${url.pathname} is not a route of this bridge`);
        }
      } finally {
        forget?.();
      }
    } catch (e) {
      const err = asImpartialError(e);
      // A body still to come is not read: the answer closes the connection instead (below).
      const unread = bodyPending(req);
      if (unread && !res.headersSent) res.setHeader('Connection', 'close');
      if (err instanceof BusyError && !res.headersSent) {
        res.setHeader('Retry-After', String(err.retryAfterS));
        res.setHeader('Connection', 'close');
        sendJson(res, err.status, { error: { code: err.code, message: err.message } });
      } else if (url?.pathname.startsWith('/fiji/') && !res.headersSent) sendFijiError(res, err);
      else sendError(res, err);
      if (unread) closeWhenAnswered(req, res);
      // A body that has all arrived is drained, so that the kept-alive connection reads the next request.
      else req.resume();
    }
  };
}

/** Whether the request declares a body (Content-Length above 0, or chunked) that has not all been read yet. */
function bodyPending(req: IncomingMessage): boolean {
  if (req.complete) return false;
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/**
 * Closes the connection once the answer is flushed. Draining the rest of a refused request's body
 * instead would let a client without a token hold one of the capped connections for as long as it
 * trickles bytes (up to the request timeout); a client that meant to send the body gets its answer.
 */
function closeWhenAnswered(req: IncomingMessage, res: ServerResponse): void {
  // destroySoon: ends the socket, destroyed once what is written (the answer) is flushed.
  const close = () => req.socket.destroySoon();
  if (res.writableFinished || res.destroyed) close();
  else res.once('close', close);
}

const REASONS: Record<number, string> = { 429: 'Too Many Requests', 503: 'Service Unavailable' };

/** A refused upgrade as a raw HTTP answer with a JSON error (and Retry-After when busy), then closed. */
function refuseRaw(socket: Duplex, e: ImpartialError): void {
  const busy = e instanceof BusyError ? e : null;
  const status = busy?.status ?? statusOf(e.code);
  const body = JSON.stringify({ error: { code: e.code, message: e.message } });
  const length = Buffer.byteLength(body);
  const head =
    `HTTP/1.1 ${status} ${REASONS[status] ?? e.code}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${length}\r\n${COMMON_HEADER_LINES}${busy ? `Retry-After: ${busy.retryAfterS}\r\n` : ''}`;
  socket.end(`${head}Connection: close\r\n\r\n${body}`);
}

/**
 * WebSocket upgrades to /ws: the same checks as any request (a browser's cross-site upgrade only
 * from an --allow-origin page), the per-address cap, then the connection gets its actor.
 */
export function upgradeHandler(
  wss: WebSocketServer,
  security: SecurityOptions,
  guard: ConnectionGuard,
  connect: (ws: import('ws').WebSocket, actor: Actor) => void,
) {
  return async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    socket.on('error', () => {});
    try {
      guard.checkConnection(req.socket);
      const url = requestUrl(req);
      checkHostAndOrigin(req, security);
      checkCrossSite(req, 'the WebSocket connection', security);
      const actor = await authenticate(req, url, security);
      if (url.pathname !== '/ws')
        throw new ImpartialError('not-found', `WebSocket connections go to /ws, not ${url.pathname}`);
      // Counted until the socket closes, also when ws refuses the handshake itself (a bad key).
      socket.once('close', guard.admitWebSocket(req.socket.remoteAddress ?? 'unknown'));
      wss.handleUpgrade(req, socket, head, (ws) => connect(ws, actor));
    } catch (e) {
      refuseRaw(socket, asImpartialError(e));
    }
  };
}
