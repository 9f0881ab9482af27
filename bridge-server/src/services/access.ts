import type { ProjectRecord } from '@impartial/shared';
import { forbidden, notFound } from '../errors.js';
import type { GroupTable } from '../store/tables/groups.js';
import type { Actor } from './actor.js';

/** What an action needs of a project: to see it, to draw on it, or to train, import and delete in it. */
export type Permission = 'read' | 'annotate' | 'write';

const RANK: Record<Permission, number> = { read: 0, annotate: 1, write: 2 };

/** Who may see a catalogue entry: its visibility, who published it and the group it is shared with. */
export interface Shared {
  visibility: 'private' | 'group' | 'everyone';
  publisherId: string;
  groupId: string | null;
}

/**
 * The one place that decides who may do what with a project; every service method asks it
 * before it reads or changes anything. In the single-user bridge whoever passed the token check
 * may do everything; `AccountAccess` decides from accounts and groups.
 */
export class Access {
  async allows(_actor: Actor, _project: ProjectRecord, _need: Permission): Promise<boolean> {
    return true;
  }

  /** Whether the actor may see (and use) a published model. */
  async sees(_actor: Actor, _entry: Shared): Promise<boolean> {
    return true;
  }

  /** Whether the actor may publish a new version of an entry (its publisher, or an admin). */
  mayChange(_actor: Actor, _entry: Shared): boolean {
    return true;
  }

  /** A project the actor may not see answers as missing (its existence is not leaked); one it may only see, 403. */
  async check(actor: Actor, project: ProjectRecord, need: Permission): Promise<void> {
    if (await this.allows(actor, project, need)) return;
    if (need === 'read' || !(await this.allows(actor, project, 'read'))) throw notFound(`project ${project.id}`);
    if (actor.account?.readOnly) throw forbidden(`a read-only token may not change project ${project.id}`);
    throw forbidden(`${actor.name} may not ${need === 'annotate' ? 'draw on' : 'change'} project ${project.id}`);
  }
}

/**
 * Multi-user rules, OMERO's: owners and admins may do everything with a project; members of its
 * group may what the group's level grants (private: nothing, read-only: look, read-annotate: look
 * and draw, read-write: everything), owners of the group everything. A read-only token only looks.
 */
export class AccountAccess extends Access {
  constructor(private readonly groups: GroupTable) {
    super();
  }

  override async allows(actor: Actor, project: ProjectRecord, need: Permission): Promise<boolean> {
    if (actor.via === 'internal') return true;
    const account = actor.account;
    if (!account) return false;
    if (account.readOnly && need !== 'read') return false;
    return RANK[need] <= (await this.granted(account.id, account.admin, project));
  }

  /** Everyone on the bridge, the members of its group, or its publisher alone; admins see all. */
  override async sees(actor: Actor, entry: Shared): Promise<boolean> {
    if (actor.via === 'internal') return true;
    const account = actor.account;
    if (!account) return false;
    if (account.admin || entry.visibility === 'everyone' || account.id === entry.publisherId) return true;
    return (
      entry.visibility === 'group' &&
      entry.groupId !== null &&
      !!(await this.groups.membership(entry.groupId, account.id))
    );
  }

  override mayChange(actor: Actor, entry: Shared): boolean {
    return (
      actor.via === 'internal' || (!!actor.account && (actor.account.admin || actor.account.id === entry.publisherId))
    );
  }

  /** The highest permission an account has on a project (-1: none). */
  private async granted(user: string, admin: boolean, project: ProjectRecord): Promise<number> {
    if (admin || project.owner === user) return RANK.write;
    if (!project.group) return -1;
    const member = await this.groups.membership(project.group, user);
    if (!member) return -1;
    if (member.owner) return RANK.write;
    const level = (await this.groups.find(project.group))?.level ?? 'private';
    return { private: -1, 'read-only': RANK.read, 'read-annotate': RANK.annotate, 'read-write': RANK.write }[level];
  }
}
