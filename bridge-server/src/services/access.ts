import type { ProjectRecord } from '@impartial/shared';
import { forbidden, notFound } from '../errors.js';
import type { Actor } from './actor.js';

/** What an action needs of a project: to see it, to draw on it, or to train, import and delete in it. */
export type Permission = 'read' | 'annotate' | 'write';

/**
 * The one place that decides who may do what with a project; every service method asks it
 * before it reads or changes anything. In the single-user bridge whoever passed the token check
 * may do everything; a multi-user mode decides here from accounts and groups.
 */
export class Access {
  allows(_actor: Actor, _project: ProjectRecord, _need: Permission): boolean {
    return true;
  }

  /** A project the actor may not see answers as missing (its existence is not leaked); one it may only see, 403. */
  check(actor: Actor, project: ProjectRecord, need: Permission): void {
    if (this.allows(actor, project, need)) return;
    if (need === 'read' || !this.allows(actor, project, 'read')) throw notFound(`project ${project.id}`);
    throw forbidden(`${actor.name} may not ${need === 'annotate' ? 'draw on' : 'change'} project ${project.id}`);
  }
}
