import { newId } from '@impartial/shared';
import { notFound } from '../../errors.js';
import type { Db } from '../database/open.js';
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

  async add(hash: string, c: Omit<CredentialRecord, 'id' | 'created'>): Promise<CredentialRecord> {
    const id = newId('c');
    await this.db
      .insertInto('credentials')
      .values({
        hash,
        id,
        user: c.user,
        kind: c.kind,
        label: c.label,
        access: c.access,
        created: now(),
        expires: c.expires,
      })
      .execute();
    return this.get(id);
  }

  /** The credential behind a hash, if it exists and has not expired. */
  async byHash(hash: string, at = now()): Promise<CredentialRecord | null> {
    const r = await this.db
      .selectFrom('credentials')
      .selectAll()
      .where('hash', '=', hash)
      .where((eb) => eb.or([eb('expires', 'is', null), eb('expires', '>', at)]))
      .executeTakeFirst();
    return r ? recordOf(r as CredentialRow) : null;
  }

  /** The credential with this id, if it exists and has not expired. */
  async find(id: string, at = now()): Promise<CredentialRecord | null> {
    const r = await this.db
      .selectFrom('credentials')
      .selectAll()
      .where('id', '=', id)
      .where((eb) => eb.or([eb('expires', 'is', null), eb('expires', '>', at)]))
      .executeTakeFirst();
    return r ? recordOf(r as CredentialRow) : null;
  }

  async get(id: string): Promise<CredentialRecord> {
    const r = await this.db.selectFrom('credentials').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw notFound(`credential ${id}`);
    return recordOf(r as CredentialRow);
  }

  async ofUser(user: string, kind?: CredentialKind): Promise<CredentialRecord[]> {
    let q = this.db.selectFrom('credentials').selectAll().where('user', '=', user);
    if (kind) q = q.where('kind', '=', kind);
    const rows = await q.orderBy('created').execute();
    return (rows as CredentialRow[]).map(recordOf);
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('credentials').where('id', '=', id).execute();
  }

  async deleteOfUser(user: string, kind?: CredentialKind): Promise<void> {
    let q = this.db.deleteFrom('credentials').where('user', '=', user);
    if (kind) q = q.where('kind', '=', kind);
    await q.execute();
  }

  async deleteExpired(at = now()): Promise<void> {
    await this.db.deleteFrom('credentials').where('expires', 'is not', null).where('expires', '<=', at).execute();
  }
}
