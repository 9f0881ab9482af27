import type { Db } from '../database/open.js';
import { now } from './time.js';

/** Invite codes for `--signup invite`: stored as hashes, each used once, until it expires. */
export class InviteTable {
  constructor(private readonly db: Db) {}

  async add(hash: string, createdBy: string, expires: string): Promise<void> {
    await this.db.insertInto('invites').values({ hash, created_by: createdBy, created: now(), expires }).execute();
  }

  /** Marks the invite used by `user`; false when there is no such unused, unexpired invite. */
  async use(hash: string, user: string): Promise<boolean> {
    const r = await this.db
      .updateTable('invites')
      .set({ used_by: user })
      .where('hash', '=', hash)
      .where('used_by', 'is', null)
      .where('expires', '>', now())
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async usable(hash: string): Promise<boolean> {
    return !!(await this.db
      .selectFrom('invites')
      .select('hash')
      .where('hash', '=', hash)
      .where('used_by', 'is', null)
      .where('expires', '>', now())
      .executeTakeFirst());
  }
}
