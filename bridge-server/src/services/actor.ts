/*
 * Who is asking: every service call takes one. On a single-user bridge that is the holder of the
 * bridge's token (or anyone on loopback under --no-auth); on a multi-user bridge, an account,
 * proved by a browser session cookie, a login token or a personal access token. Either speaks
 * through a web viewer, a script, Fiji or a MONAI Label client; the name is what strokes and model
 * versions record as their author.
 */

export type ClientKind = 'web' | 'viewer' | 'fiji' | 'monai' | 'script';

/** The account behind a multi-user request. */
export interface Account {
  id: string;
  name: string;
  admin: boolean;
  /** The credential the request carried (a public id): revoking it ends what it opened. */
  credential: string;
  /** A read-only token may look but not change anything. */
  readOnly: boolean;
  /** A browser session (cookie): its writes must come from the bridge's own pages. */
  cookie: boolean;
}

export interface Actor {
  name: string;
  /** How the request proved itself. */
  via: 'token' | 'no-auth' | 'internal' | 'account';
  client: ClientKind;
  account?: Account;
}

/** The bridge itself (the demo project, start-up work). */
export const SYSTEM: Actor = { name: 'bridge', via: 'internal', client: 'script' };

/**
 * The same actor under the name a client gives for itself (a viewer's or macro's display name).
 * An account's name is its own: what the client says is ignored, so no one writes as another.
 */
export function named(actor: Actor, name: string | undefined | null, client?: ClientKind): Actor {
  const given = actor.account ? undefined : name?.trim().slice(0, 100);
  return { ...actor, ...(given ? { name: given } : {}), ...(client ? { client } : {}) };
}
