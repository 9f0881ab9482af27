/*
 * Who is asking: every service call takes one. Today that is the holder of the bridge's token
 * (or anyone on loopback under --no-auth), speaking through a web viewer, a script, Fiji or a
 * MONAI Label client; the name is what strokes and model versions record as their author.
 */

export type ClientKind = 'web' | 'viewer' | 'fiji' | 'monai' | 'script';

export interface Actor {
  name: string;
  /** How the request proved itself. */
  via: 'token' | 'no-auth' | 'internal';
  client: ClientKind;
}

/** The bridge itself (the demo project, start-up work). */
export const SYSTEM: Actor = { name: 'bridge', via: 'internal', client: 'script' };

/** The same actor under the name a client gives for itself (a viewer's or macro's display name). */
export function named(actor: Actor, name: string | undefined | null, client?: ClientKind): Actor {
  const given = name?.trim().slice(0, 100);
  return { ...actor, ...(given ? { name: given } : {}), ...(client ? { client } : {}) };
}
