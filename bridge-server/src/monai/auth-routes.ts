import { ImpartialError } from '../errors.js';
import { formLogin } from '../http/credentials.js';
import { sendJson } from '../http/respond.js';
import type { Router } from '../http/router.js';
import type { Accounts } from '../services/index.js';

/*
 * MONAI Label's auth routes, as its clients (3D Slicer's, the Python client) use them: `GET /auth/`
 * says auth is on, `POST /auth/token` trades a user name and password (OAuth2's password form) for
 * a bearer token, `GET /auth/token/valid` says whose it is and with which of MONAI's roles. The
 * bridge is its own identity provider here: the token is one of its login tokens.
 */

const ROLES = ['monailabel-user', 'monailabel-annotator'];
const ADMIN_ROLES = [...ROLES, 'monailabel-reviewer', 'monailabel-admin'];

export function registerMonaiAuth(router: Router, accounts: Accounts | null): void {
  router.public('GET', '/auth/', ({ res }) => {
    sendJson(
      res,
      200,
      accounts ? { enabled: true, client_id: 'impartial-bridge', realm: 'impartial' } : { enabled: false },
    );
  });
  if (!accounts) return;
  router.public('POST', '/auth/token', async (c) => {
    const token = await formLogin(c.req, accounts, 'MONAI Label client');
    const expiresIn = Math.round(accounts.options.loginTokenHours * 3600);
    sendJson(c.res, 200, { access_token: token, token_type: 'bearer', expires_in: expiresIn });
  });
  router.on('GET', '/auth/token/valid', ({ actor, res }) => {
    const account = actor.account;
    if (!account) throw new ImpartialError('unauthorized', 'not signed in');
    sendJson(res, 200, {
      username: account.name,
      email: '',
      name: account.name,
      roles: account.admin ? ADMIN_ROLES : account.readOnly ? ['monailabel-user'] : ROLES,
    });
  });
}
