import type { Actor, Revocation } from '../services/index.js';

/*
 * What each account has open: WebSockets and requests still being answered (long polls). When an
 * account is disabled or deleted, or a credential revoked, what it opened is closed at once; the
 * client's next request is refused. When its groups change, its WebSockets close (they reconnect,
 * and their hello is checked again); its requests under way finish.
 */

interface Open {
  actor: Actor;
  close: () => void;
  /** A WebSocket (checked once, at its hello), not a request. */
  live: boolean;
}

export class OpenConnections {
  private readonly open = new Set<Open>();

  /** Tracks something an account opened; the returned function forgets it (when it ends by itself). */
  add(actor: Actor, close: () => void, live = false): () => void {
    if (!actor.account) return () => {};
    const entry = { actor, close, live };
    this.open.add(entry);
    return () => this.open.delete(entry);
  }

  /** Closes what was opened with credentials that no longer stand (revoked by another process). */
  async sweep(stillValid: (account: NonNullable<Actor['account']>) => Promise<boolean>): Promise<number> {
    let closed = 0;
    for (const o of [...this.open]) {
      if (await stillValid(o.actor.account!)) continue;
      this.open.delete(o);
      o.close();
      closed++;
    }
    return closed;
  }

  revoke(r: Revocation): number {
    let closed = 0;
    for (const o of [...this.open]) {
      const a = o.actor.account!;
      if ('user' in r ? a.id !== r.user || (r.live && !o.live) : a.credential !== r.credential) continue;
      this.open.delete(o);
      o.close();
      closed++;
    }
    return closed;
  }
}
