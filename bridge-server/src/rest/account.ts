import { z } from 'zod';
import { ImpartialError } from '../errors.js';
import { clearSessionCookie, sessionCookie, setSessionCookie } from '../http/credentials.js';
import { parseInput as parse } from '../http/input.js';
import { readFields, sendJson } from '../http/respond.js';
import type { RouteContext, Router } from '../http/router.js';
import type { Accounts, Actor, UserRecord } from '../services/index.js';

/*
 * The web page's account routes: sign in (a new session id and cookie at every login), sign out,
 * sign up (as --signup allows), who am I, change password, and personal access tokens (shown once).
 */

const Login = z.object({ name: z.string().min(1).max(200), password: z.string().min(1).max(4096) });
const Signup = Login.extend({ invite: z.string().max(200).optional() });
const PasswordChange = z.object({ current: z.string().max(4096), password: z.string().max(4096) });
const TokenRequest = z.object({
  label: z.string().min(1).max(100),
  access: z.enum(['read', 'write']).default('write'),
});

export const publicUser = (u: UserRecord) => ({ id: u.id, name: u.name, admin: u.admin, disabled: u.disabled });

export function accountOf(actor: Actor) {
  if (!actor.account) throw new ImpartialError('not-found', 'accounts: this bridge has none (serve --users)');
  return actor.account;
}

export function registerAccount(router: Router, accounts: Accounts): void {
  const address = (c: Pick<RouteContext, 'req'>) => c.req.socket.remoteAddress ?? 'unknown';

  router.public('POST', '/api/login', async (c) => {
    const body = parse(Login, await readFields(c.req), 'login');
    const user = await accounts.login(body.name, body.password, address(c));
    // A session id set before the login (fixation) is not reused: every login gets a new one.
    const old = sessionCookie(c.req);
    const oldAccount = old ? await accounts.authenticate(old) : null;
    if (oldAccount?.cookie) await accounts.revokeCredential(oldAccount.credential);
    const { secret } = await accounts.issue(user, 'cookie', c.req.headers['user-agent']?.slice(0, 100) ?? 'browser');
    setSessionCookie(c.req, c.res, secret, accounts.options.cookieHours);
    sendJson(c.res, 200, { user: publicUser(user) });
  });

  router.public('POST', '/api/signup', async (c) => {
    const body = parse(Signup, await readFields(c.req), 'sign-up');
    const user = await accounts.signup(body.name, body.password, body.invite ?? null, address(c));
    sendJson(c.res, 201, { user: publicUser(user) });
  });

  router.on('POST', '/api/logout', async ({ actor, req, res }) => {
    await accounts.revokeCredential(accountOf(actor).credential);
    clearSessionCookie(req, res);
    sendJson(res, 200, { ok: true });
  });

  router.on('GET', '/api/me', async ({ actor, res }) => {
    const account = accountOf(actor);
    const user = await accounts.user(account.name);
    sendJson(res, 200, {
      user: publicUser(user),
      readOnly: account.readOnly,
      groups: await accounts.groupsOf(user.id),
      homeGroup: user.homeGroup,
      signup: accounts.options.signup,
    });
  });

  router.on('POST', '/api/me/password', async ({ actor, req, res }) => {
    const account = accountOf(actor);
    if (account.readOnly) throw new ImpartialError('forbidden', 'a read-only token may not change the password');
    const body = parse(PasswordChange, await readFields(req), 'password');
    await accounts.login(account.name, body.current, req.socket.remoteAddress ?? 'unknown');
    await accounts.resetPassword(account.name, body.password);
    clearSessionCookie(req, res);
    sendJson(res, 200, { ok: true, signedOut: true });
  });

  router.on('GET', '/api/me/tokens', async ({ actor, res }) => {
    sendJson(res, 200, await accounts.tokens(accountOf(actor).id));
  });

  router.on('POST', '/api/me/tokens', async ({ actor, req, res }) => {
    const account = accountOf(actor);
    // A token minted by a token would outlive it: new tokens need a password sign-in (the page) or the CLI.
    if (!account.cookie) {
      throw new ImpartialError(
        'forbidden',
        "personal tokens are made on the bridge's page or with 'impartial users token'",
      );
    }
    const body = parse(TokenRequest, await readFields(req), 'token');
    const { secret, record } = await accounts.issue(
      await accounts.user(account.name),
      'token',
      body.label,
      body.access,
    );
    sendJson(res, 201, { token: secret, record });
  });

  router.on('DELETE', '/api/me/tokens/:token', async ({ actor, res, params }) => {
    await accounts.revoke(actor, params.token!);
    sendJson(res, 200, { ok: true });
  });
}
