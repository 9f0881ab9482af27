import { newId } from '@impartial/shared';
import { conflict, notFound } from '../../errors.js';
import { type Db, isUniqueViolation } from '../database/open.js';
import type { UsersTable } from '../database/schema.js';
import { now } from './time.js';

/** An account of the multi-user bridge. The password hash never leaves the store's own methods. */
export interface UserRecord {
  id: string;
  name: string;
  admin: boolean;
  disabled: boolean;
  /** The group new projects of this user are shared in; null: in none (only the owner and admins see them). */
  homeGroup: string | null;
  created: string;
}

type UserRow = UsersTable;

const userOf = (r: UserRow): UserRecord => ({
  id: r.id,
  name: r.name,
  admin: r.admin === 1,
  disabled: r.disabled === 1,
  homeGroup: r.home_group,
  created: r.created,
});

/** Accounts: names are unique and compared as given (case matters, as in a Unix login). */
export class UserTable {
  constructor(private readonly db: Db) {}

  async add(name: string, hash: string, admin: boolean, homeGroup: string | null = null): Promise<UserRecord> {
    if (await this.findByName(name)) throw conflict(`user ${name} already exists`);
    const id = newId('u');
    try {
      await this.db
        .insertInto('users')
        .values({ id, name, hash, admin: admin ? 1 : 0, disabled: 0, home_group: homeGroup, created: now() })
        .execute();
    } catch (e) {
      // Two sign-ups of one name at once: the second finds the first's row.
      if (isUniqueViolation(e)) throw conflict(`user ${name} already exists`);
      throw e;
    }
    return this.get(id);
  }

  async list(): Promise<UserRecord[]> {
    return (await this.db.selectFrom('users').selectAll().orderBy('name').execute()).map(userOf);
  }

  async count(): Promise<number> {
    const r = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async find(id: string): Promise<UserRecord | null> {
    const r = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? userOf(r) : null;
  }

  async get(id: string): Promise<UserRecord> {
    const u = await this.find(id);
    if (!u) throw notFound(`user ${id}`);
    return u;
  }

  async findByName(name: string): Promise<UserRecord | null> {
    const r = await this.db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
    return r ? userOf(r) : null;
  }

  async byName(name: string): Promise<UserRecord> {
    const u = await this.findByName(name);
    if (!u) throw notFound(`user ${name}`);
    return u;
  }

  /** The stored hash to verify a password against (null for an unknown name). */
  async hashOf(name: string): Promise<{ user: UserRecord; hash: string } | null> {
    const r = await this.db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
    return r ? { user: userOf(r), hash: r.hash } : null;
  }

  async setHash(id: string, hash: string): Promise<void> {
    await this.db.updateTable('users').set({ hash }).where('id', '=', id).execute();
  }

  async setDisabled(id: string, disabled: boolean): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ disabled: disabled ? 1 : 0 })
      .where('id', '=', id)
      .execute();
  }

  async setAdmin(id: string, admin: boolean): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ admin: admin ? 1 : 0 })
      .where('id', '=', id)
      .execute();
  }

  async setHomeGroup(id: string, group: string | null): Promise<void> {
    await this.db.updateTable('users').set({ home_group: group }).where('id', '=', id).execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('users').where('id', '=', id).execute();
  }
}
