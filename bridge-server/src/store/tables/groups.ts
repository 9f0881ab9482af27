import { newId } from '@impartial/shared';
import { conflict, notFound } from '../../errors.js';
import { type Db, isUniqueViolation } from '../database/open.js';
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

  async add(name: string, level: GroupLevel): Promise<GroupRecord> {
    if (await this.findByName(name)) throw conflict(`group ${name} already exists`);
    const id = newId('g');
    try {
      await this.db.insertInto('groups').values({ id, name, level, created: now() }).execute();
    } catch (e) {
      // Two adds of one name at once: the second finds the first's row.
      if (isUniqueViolation(e)) throw conflict(`group ${name} already exists`);
      throw e;
    }
    return this.get(id);
  }

  async list(): Promise<GroupRecord[]> {
    return (await this.db.selectFrom('groups').selectAll().orderBy('name').execute()) as GroupRecord[];
  }

  async find(id: string): Promise<GroupRecord | null> {
    const g = await this.db.selectFrom('groups').selectAll().where('id', '=', id).executeTakeFirst();
    return (g as GroupRecord | undefined) ?? null;
  }

  async get(id: string): Promise<GroupRecord> {
    const g = await this.find(id);
    if (!g) throw notFound(`group ${id}`);
    return g;
  }

  async findByName(name: string): Promise<GroupRecord | null> {
    const g = await this.db.selectFrom('groups').selectAll().where('name', '=', name).executeTakeFirst();
    return (g as GroupRecord | undefined) ?? null;
  }

  async setLevel(id: string, level: GroupLevel): Promise<void> {
    await this.db.updateTable('groups').set({ level }).where('id', '=', id).execute();
  }

  async setMember(group: string, user: string, owner: boolean): Promise<void> {
    await this.db
      .insertInto('members')
      .values({ grp: group, user, owner: owner ? 1 : 0 })
      .onConflict((oc) => oc.columns(['grp', 'user']).doUpdateSet((eb) => ({ owner: eb.ref('excluded.owner') })))
      .execute();
  }

  async removeMember(group: string, user: string): Promise<void> {
    await this.db.deleteFrom('members').where('grp', '=', group).where('user', '=', user).execute();
  }

  async membership(group: string, user: string): Promise<Membership | null> {
    const r = await this.db
      .selectFrom('members')
      .select('owner')
      .where('grp', '=', group)
      .where('user', '=', user)
      .executeTakeFirst();
    return r ? { group, user, owner: r.owner === 1 } : null;
  }

  async membersOf(group: string): Promise<Membership[]> {
    const rows = await this.db.selectFrom('members').select(['user', 'owner']).where('grp', '=', group).execute();
    return rows.map((r) => ({ group, user: r.user, owner: r.owner === 1 }));
  }

  async groupsOf(user: string): Promise<Array<GroupRecord & { owner: boolean }>> {
    const rows = await this.db
      .selectFrom('groups as g')
      .innerJoin('members as m', 'm.grp', 'g.id')
      .selectAll('g')
      .select('m.owner')
      .where('m.user', '=', user)
      .orderBy('g.name')
      .execute();
    return rows.map((r) => ({ ...r, level: r.level as GroupLevel, owner: r.owner === 1 }));
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('groups').where('id', '=', id).execute();
  }
}
