import { newId } from '@impartial/shared';
import { conflict, notFound } from '../../errors.js';
import type { Db } from '../db.js';
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

interface UserRow {
  id: string;
  name: string;
  hash: string;
  admin: number;
  disabled: number;
  home_group: string | null;
  created: string;
}

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

  add(name: string, hash: string, admin: boolean, homeGroup: string | null = null): UserRecord {
    if (this.findByName(name)) throw conflict(`user ${name} already exists`);
    const id = newId('u');
    this.db
      .prepare('INSERT INTO users (id, name, hash, admin, home_group, created) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, name, hash, admin ? 1 : 0, homeGroup, now());
    return this.get(id);
  }

  list(): UserRecord[] {
    return (this.db.prepare('SELECT * FROM users ORDER BY name').all() as UserRow[]).map(userOf);
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n;
  }

  find(id: string): UserRecord | null {
    const r = this.db.prepare('SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined;
    return r ? userOf(r) : null;
  }

  get(id: string): UserRecord {
    const u = this.find(id);
    if (!u) throw notFound(`user ${id}`);
    return u;
  }

  findByName(name: string): UserRecord | null {
    const r = this.db.prepare('SELECT * FROM users WHERE name = ?').get(name) as UserRow | undefined;
    return r ? userOf(r) : null;
  }

  byName(name: string): UserRecord {
    const u = this.findByName(name);
    if (!u) throw notFound(`user ${name}`);
    return u;
  }

  /** The stored hash to verify a password against (null for an unknown name). */
  hashOf(name: string): { user: UserRecord; hash: string } | null {
    const r = this.db.prepare('SELECT * FROM users WHERE name = ?').get(name) as UserRow | undefined;
    return r ? { user: userOf(r), hash: r.hash } : null;
  }

  setHash(id: string, hash: string): void {
    this.db.prepare('UPDATE users SET hash = ? WHERE id = ?').run(hash, id);
  }

  setDisabled(id: string, disabled: boolean): void {
    this.db.prepare('UPDATE users SET disabled = ? WHERE id = ?').run(disabled ? 1 : 0, id);
  }

  setAdmin(id: string, admin: boolean): void {
    this.db.prepare('UPDATE users SET admin = ? WHERE id = ?').run(admin ? 1 : 0, id);
  }

  setHomeGroup(id: string, group: string | null): void {
    this.db.prepare('UPDATE users SET home_group = ? WHERE id = ?').run(group, id);
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM users WHERE id = ?').run(id);
  }
}
