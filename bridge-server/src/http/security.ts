import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { hostname as machineName } from 'node:os';
import { ImpartialError } from '../errors.js';
import type { Accounts, Actor } from '../services/index.js';
import { accountActor, authorizationToken } from './credentials.js';

/*
 * Who may talk to the bridge: a request must name the bound host in its Host header (a page
 * that rebinds its own DNS name to 127.0.0.1 is refused), come from no browser origin or from
 * the bridge's own or an allowed one, and carry the token (Bearer, raw Authorization, or ?token=),
 * unless its route is public (the viewer's files).
 */

export interface SecurityOptions {
  /** null under --no-auth. */
  token: string | null;
  /** The host the server was bound to, as given. */
  host: string;
  /** The port actually bound (after port 0 picked one). */
  port: number;
  /** Origins besides the bridge's own that browsers may call from (scheme://host[:port]). */
  allowOrigins: readonly string[];
  /** A multi-user bridge's accounts (`serve --users`): requests then sign in as an account instead. */
  accounts?: Accounts | null;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return LOOPBACK_NAMES.has(h) || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** Splits a Host header into name and port ("[::1]:8000" -> ["::1", 8000]). */
function parseHostHeader(header: string): { name: string; port: number | null } | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(header.trim());
  if (!m) return null;
  return { name: m[1]!.replace(/^\[|\]$/g, '').toLowerCase(), port: m[2] ? Number(m[2]) : null };
}

function hostAllowed(name: string, bound: string): boolean {
  const b = bound.replace(/^\[|\]$/g, '').toLowerCase();
  if (isLoopback(b)) return isLoopback(name);
  if (b === '0.0.0.0' || b === '::')
    return isIP(name) !== 0 || name === 'localhost' || name === machineName().toLowerCase();
  return name === b;
}

export function normalizeOrigin(origin: string): string {
  try {
    const u = new URL(origin);
    return `${u.protocol}//${u.host}`.toLowerCase();
  } catch {
    throw new ImpartialError('bad-request', `--allow-origin ${origin}: not an origin like http://host:port`);
  }
}

/** The token a request carries, if any. */
function presentedToken(req: IncomingMessage, url: URL): string | null {
  return authorizationToken(req) ?? url.searchParams.get('token');
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a),
    y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The bridge's own origins: its Host over http, and over https (behind a TLS proxy that keeps the
 * Host header). No other site's page can send an Origin naming the bridge's host.
 */
function ownOrigins(req: IncomingMessage): string[] {
  const host = (req.headers.host ?? '').toLowerCase();
  return [`http://${host}`, `https://${host}`];
}

/** Checks Host and Origin; returns the origin to echo in CORS headers (a foreign allowed one) or null. */
export function checkHostAndOrigin(req: IncomingMessage, o: SecurityOptions): string | null {
  const host = parseHostHeader(req.headers.host ?? '');
  if (!host) throw new ImpartialError('forbidden', 'missing or malformed Host header');
  if (!hostAllowed(host.name, o.host) || (host.port ?? 80) !== o.port) {
    throw new ImpartialError(
      'forbidden',
      `Host ${req.headers.host} is not this bridge (${o.host}:${o.port}); refused to guard against DNS rebinding`,
    );
  }
  const origin = req.headers.origin;
  if (origin === undefined) return null;
  const own = ownOrigins(req);
  const normalized =
    origin === 'null'
      ? 'null'
      : (() => {
          try {
            return normalizeOrigin(origin);
          } catch {
            return 'invalid';
          }
        })();
  if (own.includes(normalized)) return null;
  if (o.allowOrigins.map((a) => a.toLowerCase()).includes(normalized)) return normalized;
  throw new ImpartialError(
    'forbidden',
    `requests from origin ${origin.slice(0, 200)} are not allowed ` +
      `(start the bridge with --allow-origin ${origin.slice(0, 200)} to allow it)`,
  );
}

/** The origin a header names (an Origin, or a Referer's scheme://host[:port]), or null when absent or malformed. */
function originOf(header: string | undefined): string | null {
  if (!header || header === 'null') return header === 'null' ? 'null' : null;
  try {
    const u = new URL(header);
    return `${u.protocol}//${u.host}`.toLowerCase();
  } catch {
    return 'invalid';
  }
}

/** Whether a request changes state: every write, and every /fiji/ route (ImageJ's macro protocol acts by GET). */
export function changesState(method: string | undefined, pathname: string): boolean {
  return !['GET', 'HEAD', 'OPTIONS'].includes(method ?? 'GET') || pathname.startsWith('/fiji/');
}

/**
 * Refuses what another web page made a browser send: a `Sec-Fetch-Site` of cross-site or same-site
 * (unless the Origin or Referer is an --allow-origin one, as an embedding page's is), or an Origin or
 * Referer naming a foreign origin. Clients that send none of these headers (ImageJ, curl, MONAI Label
 * clients, the ImPartial Fiji plugin) pass: a browser always sends Sec-Fetch-Site, and a page cannot
 * forge it. Without this, under --no-auth any page could draw, undo or train with an <img> or a form.
 */
export function checkCrossSite(req: IncomingMessage, what: string, o: SecurityOptions): void {
  const own = ownOrigins(req);
  const allowed = o.allowOrigins.map((a) => a.toLowerCase());
  const origin = originOf(req.headers.origin);
  const referer = originOf(req.headers.referer);
  const foreign = [origin, referer].find((x) => x !== null && !own.includes(x) && !allowed.includes(x));
  if (foreign) {
    throw new ImpartialError(
      'forbidden',
      `${what} refused: it comes from a page on ${foreign.slice(0, 200)}, not this bridge or an --allow-origin one`,
    );
  }
  const site = req.headers['sec-fetch-site'];
  const vouched = [origin, referer].some((x) => x !== null && allowed.includes(x));
  if ((site === 'cross-site' || site === 'same-site') && !vouched) {
    throw new ImpartialError(
      'forbidden',
      `${what} refused: the browser says it comes from another site (Sec-Fetch-Site: ${site}) ` +
        'and no --allow-origin origin vouches for it',
    );
  }
}

/**
 * Who a request is, once its credentials are checked: an account on a multi-user bridge; else the
 * holder of the bridge's token, or, under --no-auth on loopback, whoever is on this machine (named
 * "web" until a route learns a better name).
 */
export async function authenticate(req: IncomingMessage, url: URL, o: SecurityOptions): Promise<Actor> {
  if (o.accounts) {
    const own = [...ownOrigins(req), ...o.allowOrigins.map((a) => a.toLowerCase())];
    // A WebSocket's messages draw and train: its upgrade counts as a write.
    const writes = changesState(req.method, url.pathname) || url.pathname === '/ws';
    return accountActor(req, o.accounts, writes, own);
  }
  if (o.token === null) return { name: 'web', via: 'no-auth', client: 'web' };
  const t = presentedToken(req, url);
  if (t === null) {
    throw new ImpartialError(
      'unauthorized',
      'this bridge needs its token: Authorization: Bearer TOKEN, or ?token=TOKEN (printed when the bridge started)',
    );
  }
  if (!sameToken(t, o.token)) throw new ImpartialError('unauthorized', 'wrong token');
  return { name: 'web', via: 'token', client: 'web' };
}
