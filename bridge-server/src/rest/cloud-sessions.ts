import { IdSchema } from '@impartial/shared';
import { ImpartialError } from '../errors.js';
import { formLogin } from '../http/credentials.js';
import { sendJson } from '../http/respond.js';
import type { Router } from '../http/router.js';
import type { Accounts, WorkSessions } from '../services/index.js';

/*
 * The original ImPartial Fiji plugin's cloud mode (its SessionClient): `POST /login` with form
 * fields answers a token the plugin then sends raw in Authorization; `/session` starts, lists,
 * restores, extends and ends work sessions, and the plugin polls `/session/details` until the
 * session runs and is healthy. Its MONAI Label calls go under `/proxy/`, to the current session.
 */

export function registerCloudSessions(router: Router, accounts: Accounts, sessions: WorkSessions): void {
  router.public('POST', '/login', async (c) => {
    sendJson(c.res, 200, { token: await formLogin(c.req, accounts, 'ImPartial plugin') });
  });

  const sessionId = (url: URL): string | null => {
    const id = url.searchParams.get('session_id');
    if (id === null || id === '') return null;
    if (!IdSchema.safeParse(id).success) throw new ImpartialError('bad-request', 'session_id: not a session id');
    return id;
  };

  // Older plugins send POST /session?session_id=ID to go back to a session: that restores it.
  router.on('POST', '/session', async ({ actor, res, url }) => {
    const id = sessionId(url);
    const s = id ? await sessions.restore(actor, id) : await sessions.start(actor);
    sendJson(res, 200, { session_id: s.id });
  });
  router.on('GET', '/session', async ({ actor, res }) => sendJson(res, 200, await sessions.list(actor)));
  router.on('GET', '/session/details', async ({ actor, res }) => {
    const s = await sessions.current(actor);
    if (!s) throw new ImpartialError('not-found', 'no running session: POST /session starts one');
    // The bridge serves a session as soon as it exists: no server to provision, so running and healthy at once.
    sendJson(res, 200, {
      session_id: s.id,
      last_status: 'RUNNING',
      health_status: 'HEALTHY',
      created_at: s.created,
      expires: s.expires,
    });
  });
  router.on('POST', '/session/restore', async ({ actor, res, url }) => {
    const id = sessionId(url);
    if (!id) throw new ImpartialError('bad-request', 'session_id is required');
    const s = await sessions.restore(actor, id);
    sendJson(res, 200, { session_id: s.id, expires: s.expires });
  });
  router.on('POST', '/session/extend', async ({ actor, res }) => {
    const s = await sessions.extend(actor);
    sendJson(res, 200, { session_id: s.id, expires: s.expires });
  });
  router.on('DELETE', '/session', async ({ actor, res, url }) => {
    const s = await sessions.end(actor, sessionId(url) ?? undefined);
    sendJson(res, 200, { session_id: s.id, status: s.status });
  });
}
