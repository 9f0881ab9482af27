import type { Db } from '../db.js';
import { now } from './time.js';

/** Invite codes for `--signup invite`: stored as hashes, each used once, until it expires. */
export class InviteTable {
  constructor(private readonly db: Db) {}

  add(hash: string, createdBy: string, expires: string): void {
    this.db
      .prepare('INSERT INTO invites (hash, created_by, created, expires) VALUES (?, ?, ?, ?)')
      .run(hash, createdBy, now(), expires);
  }

  /** Marks the invite used by `user`; false when there is no such unused, unexpired invite. */
  use(hash: string, user: string): boolean {
    const r = this.db
      .prepare('UPDATE invites SET used_by = ? WHERE hash = ? AND used_by IS NULL AND expires > ?')
      .run(user, hash, now());
    return r.changes === 1;
  }

  usable(hash: string): boolean {
    return !!this.db
      .prepare('SELECT 1 FROM invites WHERE hash = ? AND used_by IS NULL AND expires > ?')
      .get(hash, now());
  }
}
