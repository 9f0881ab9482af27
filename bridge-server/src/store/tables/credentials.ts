import { newId } from '@impartial/shared';
import { notFound } from '../../errors.js';
import type { Db } from '../db.js';
import { now } from './time.js';

/*
 * Secrets that stand for an account: browser sessions (the cookie), login tokens (what `/login`
 * and MONAI's `/auth/token` answer) and personal access tokens. Only a hash of each is stored;
 * the secret itself is shown once, when it is made.
 */

export type CredentialKind = 'cookie' | 'login' | 'token';
export type CredentialAccess = 'read' | 'write';

export interface CredentialRecord {
  /** A public id to list and revoke it by (not the secret). */
  id: string;
  user: string;
  kind: CredentialKind;
  label: string;
  access: CredentialAccess;
  created: string;
  /** null: until revoked. */
  expires: string | null;
}

interface CredentialRow extends CredentialRecord {
  hash: string;
}

const recordOf = ({ hash: _hash, ...r }: CredentialRow): CredentialRecord => r;

export class CredentialTable {
  constructor(private readonly db: Db) {}

  add(hash: string, c: Omit<CredentialRecord, 'id' | 'created'>): CredentialRecord {
    const id = newId('c');
    this.db
      .prepare(`INSERT INTO credentials (hash, id, user, kind, label, access, created, expires)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(hash, id, c.user, c.kind, c.label, c.access, now(), c.expires);
    return this.get(id);
  }

  /** The credential behind a hash, if it exists and has not expired. */
  byHash(hash: string, at = now()): CredentialRecord | null {
    const r = this.db
      .prepare('SELECT * FROM credentials WHERE hash = ? AND (expires IS NULL OR expires > ?)')
      .get(hash, at) as CredentialRow | undefined;
    return r ? recordOf(r) : null;
  }

  /** The credential with this id, if it exists and has not expired. */
  find(id: string, at = now()): CredentialRecord | null {
    const r = this.db
      .prepare('SELECT * FROM credentials WHERE id = ? AND (expires IS NULL OR expires > ?)')
      .get(id, at) as CredentialRow | undefined;
    return r ? recordOf(r) : null;
  }

  get(id: string): CredentialRecord {
    const r = this.db.prepare('SELECT * FROM credentials WHERE id = ?').get(id) as CredentialRow | undefined;
    if (!r) throw notFound(`credential ${id}`);
    return recordOf(r);
  }

  ofUser(user: string, kind?: CredentialKind): CredentialRecord[] {
    const rows = (
      kind
        ? this.db.prepare('SELECT * FROM credentials WHERE user = ? AND kind = ? ORDER BY created').all(user, kind)
        : this.db.prepare('SELECT * FROM credentials WHERE user = ? ORDER BY created').all(user)
    ) as CredentialRow[];
    return rows.map(recordOf);
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM credentials WHERE id = ?').run(id);
  }

  deleteOfUser(user: string, kind?: CredentialKind): void {
    if (kind) this.db.prepare('DELETE FROM credentials WHERE user = ? AND kind = ?').run(user, kind);
    else this.db.prepare('DELETE FROM credentials WHERE user = ?').run(user);
  }

  deleteExpired(at = now()): void {
    this.db.prepare('DELETE FROM credentials WHERE expires IS NOT NULL AND expires <= ?').run(at);
  }
}
