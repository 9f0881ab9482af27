import { newId } from '@impartial/shared';
import { conflict, notFound } from '../../errors.js';
import type { Db } from '../db.js';
import { now } from './time.js';

/**
 * What members of a group may do with one another's projects, as OMERO's group levels: nothing
 * (`private`: only owners of the group and admins see them), view, view and draw, or everything.
 */
export const GROUP_LEVELS = ['private', 'read-only', 'read-annotate', 'read-write'] as const;
export type GroupLevel = (typeof GROUP_LEVELS)[number];

export interface GroupRecord {
  id: string;
  name: string;
  level: GroupLevel;
  created: string;
}

export interface Membership {
  group: string;
  user: string;
  /** A group owner (a PI) sees and changes every project of the group, whatever its level. */
  owner: boolean;
}

/** Groups and who is in them. */
export class GroupTable {
  constructor(private readonly db: Db) {}

  add(name: string, level: GroupLevel): GroupRecord {
    if (this.findByName(name)) throw conflict(`group ${name} already exists`);
    const id = newId('g');
    this.db.prepare('INSERT INTO groups (id, name, level, created) VALUES (?, ?, ?, ?)').run(id, name, level, now());
    return this.get(id);
  }

  list(): GroupRecord[] {
    return this.db.prepare('SELECT * FROM groups ORDER BY name').all() as GroupRecord[];
  }

  find(id: string): GroupRecord | null {
    return (this.db.prepare('SELECT * FROM groups WHERE id = ?').get(id) as GroupRecord | undefined) ?? null;
  }

  get(id: string): GroupRecord {
    const g = this.find(id);
    if (!g) throw notFound(`group ${id}`);
    return g;
  }

  findByName(name: string): GroupRecord | null {
    return (this.db.prepare('SELECT * FROM groups WHERE name = ?').get(name) as GroupRecord | undefined) ?? null;
  }

  setLevel(id: string, level: GroupLevel): void {
    this.db.prepare('UPDATE groups SET level = ? WHERE id = ?').run(level, id);
  }

  setMember(group: string, user: string, owner: boolean): void {
    this.db
      .prepare(
        'INSERT INTO members (grp, user, owner) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET owner = excluded.owner',
      )
      .run(group, user, owner ? 1 : 0);
  }

  removeMember(group: string, user: string): void {
    this.db.prepare('DELETE FROM members WHERE grp = ? AND user = ?').run(group, user);
  }

  membership(group: string, user: string): Membership | null {
    const r = this.db.prepare('SELECT owner FROM members WHERE grp = ? AND user = ?').get(group, user) as
      | { owner: number }
      | undefined;
    return r ? { group, user, owner: r.owner === 1 } : null;
  }

  membersOf(group: string): Membership[] {
    const rows = this.db.prepare('SELECT user, owner FROM members WHERE grp = ?').all(group) as Array<{
      user: string;
      owner: number;
    }>;
    return rows.map((r) => ({ group, user: r.user, owner: r.owner === 1 }));
  }

  groupsOf(user: string): Array<GroupRecord & { owner: boolean }> {
    const rows = this.db
      .prepare('SELECT g.*, m.owner FROM groups g JOIN members m ON m.grp = g.id WHERE m.user = ? ORDER BY g.name')
      .all(user) as Array<GroupRecord & { owner: number }>;
    return rows.map((r) => ({ ...r, owner: r.owner === 1 }));
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM groups WHERE id = ?').run(id);
  }
}
