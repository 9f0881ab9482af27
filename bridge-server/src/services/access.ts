import type { ProjectRecord } from '@impartial/shared';
import { forbidden, notFound } from '../errors.js';
import type { GroupTable } from '../store/tables/groups.js';
import type { Actor } from './actor.js';

/** What an action needs of a project: to see it, to draw on it, or to train, import and delete in it. */
export type Permission = 'read' | 'annotate' | 'write';

const RANK: Record<Permission, number> = { read: 0, annotate: 1, write: 2 };

/**
 * The one place that decides who may do what with a project; every service method asks it
 * before it reads or changes anything. In the single-user bridge whoever passed the token check
 * may do everything; `AccountAccess` decides from accounts and groups.
 */
export class Access {
  allows(_actor: Actor, _project: ProjectRecord, _need: Permission): boolean {
    return true;
  }

  /** A project the actor may not see answers as missing (its existence is not leaked); one it may only see, 403. */
  check(actor: Actor, project: ProjectRecord, need: Permission): void {
    if (this.allows(actor, project, need)) return;
    if (need === 'read' || !this.allows(actor, project, 'read')) throw notFound(`project ${project.id}`);
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

  override allows(actor: Actor, project: ProjectRecord, need: Permission): boolean {
    if (actor.via === 'internal') return true;
    const account = actor.account;
    if (!account) return false;
    if (account.readOnly && need !== 'read') return false;
    return RANK[need] <= this.granted(account.id, account.admin, project);
  }

  /** The highest permission an account has on a project (-1: none). */
  private granted(user: string, admin: boolean, project: ProjectRecord): number {
    if (admin || project.owner === user) return RANK.write;
    if (!project.group) return -1;
    const member = this.groups.membership(project.group, user);
    if (!member) return -1;
    if (member.owner) return RANK.write;
    const level = this.groups.find(project.group)?.level ?? 'private';
    return { private: -1, 'read-only': RANK.read, 'read-annotate': RANK.annotate, 'read-write': RANK.write }[level];
  }
}
