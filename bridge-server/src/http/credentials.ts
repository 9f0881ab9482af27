import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseCookies, serialize as serializeCookie } from 'cookie';
import { ImpartialError } from '../errors.js';
import type { Accounts, Actor } from '../services/index.js';
import { readFields } from './respond.js';

/*
 * Credentials of a multi-user bridge: the browser session cookie (HttpOnly, SameSite=Strict, Secure
 * behind https), or a login or personal token in Authorization (`Bearer T`, or `T` raw as the
 * original ImPartial cloud plugin sends it). Tokens in query strings are not taken: they end up in
 * logs and browser histories. A write made with the cookie must come from the bridge's own pages.
 */

export const SESSION_COOKIE = 'impartial_session';

/** The token an Authorization header carries: `Bearer T`, or `T` raw (the original plugin); null if none. */
export function authorizationToken(req: IncomingMessage): string | null {
  const auth = req.headers.authorization;
  if (!auth) return null;
  return auth.replace(/^Bearer\s+/i, '').trim();
}

export function sessionCookie(req: IncomingMessage): string | null {
  const header = req.headers.cookie;
  if (!header || header.length > 8192) return null;
  return parseCookies(header)[SESSION_COOKIE] ?? null;
}

/** The account a request's credentials stand for, as an actor; 401 when there are none or they are not valid. */
export async function accountActor(
  req: IncomingMessage,
  accounts: Accounts,
  writes: boolean,
  ownOrigins: string[],
): Promise<Actor> {
  const token = authorizationToken(req);
  const secret = token ?? sessionCookie(req);
  if (!secret) {
    throw new ImpartialError(
      'unauthorized',
      'sign in first: a browser session, or Authorization: Bearer TOKEN (a personal access token or a login token)',
    );
  }
  const account = await accounts.authenticate(secret);
  if (!account)
    throw new ImpartialError('unauthorized', 'the session or token is not valid (expired, revoked or unknown)');
  if (account.cookie && writes) checkSameOrigin(req, ownOrigins);
  return { name: account.name, via: 'account', client: 'web', account };
}

/**
 * A cookie rides along with any request a browser sends, whichever page made it: a write made with
 * it must name the bridge's own (or an allowed) origin, or be marked same-origin by the browser.
 */
function checkSameOrigin(req: IncomingMessage, ownOrigins: string[]): void {
  const origin = req.headers.origin?.toLowerCase();
  if (origin !== undefined ? ownOrigins.includes(origin) : req.headers['sec-fetch-site'] === 'same-origin') return;
  throw new ImpartialError(
    'forbidden',
    "a write signed in by the browser's session must come from the bridge's own pages (its Origin header)",
  );
}

function secure(req: IncomingMessage): boolean {
  return req.headers['x-forwarded-proto'] === 'https' || 'encrypted' in req.socket;
}

export function setSessionCookie(req: IncomingMessage, res: ServerResponse, secret: string, hours: number): void {
  res.setHeader(
    'Set-Cookie',
    serializeCookie(SESSION_COOKIE, secret, {
      httpOnly: true,
      sameSite: 'strict',
      secure: secure(req),
      path: '/',
      maxAge: Math.round(hours * 3600),
    }),
  );
}

export function clearSessionCookie(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader(
    'Set-Cookie',
    serializeCookie(SESSION_COOKIE, '', {
      httpOnly: true,
      sameSite: 'strict',
      secure: secure(req),
      path: '/',
      maxAge: 0,
    }),
  );
}

/**
 * A login by form fields `username` and `password` (the original plugin's `/login`, MONAI's
 * `/auth/token`): a new login token, shown once.
 */
export async function formLogin(req: IncomingMessage, accounts: Accounts, label: string): Promise<string> {
  const f = await readFields(req);
  if (!f.username || !f.password) throw new ImpartialError('bad-request', 'login: username and password are required');
  const user = await accounts.login(f.username, f.password, req.socket.remoteAddress ?? 'unknown');
  return (await accounts.issue(user, 'login', label)).secret;
}
