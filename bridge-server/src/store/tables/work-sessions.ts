import { newId } from '@impartial/shared';
import { notFound } from '../../errors.js';
import type { Db } from '../database/open.js';
import { now } from './time.js';

/*
 * Work sessions (the original cloud plugin's): a user's workspace, one project each. A session
 * is `running` (its jobs may run) or `ended` (its data kept, its compute freed); `restore` makes
 * an ended one running again. `used` orders a user's sessions: the latest used running one is
 * where MONAI Label calls of that user go.
 */

export type WorkSessionStatus = 'running' | 'ended';

export interface WorkSessionRecord {
  id: string;
  user: string;
  project: string;
  status: WorkSessionStatus;
  created: string;
  expires: string;
  /** Whether the expiry warning was sent for the current expiry. */
  warned: boolean;
  used: string;
}

interface WorkSessionRow extends Omit<WorkSessionRecord, 'warned'> {
  warned: number;
}

const recordOf = (r: WorkSessionRow): WorkSessionRecord => ({ ...r, warned: r.warned === 1 });

export class WorkSessionTable {
  constructor(private readonly db: Db) {}

  async add(user: string, project: string, expires: string): Promise<WorkSessionRecord> {
    const id = newId('s');
    const t = now();
    await this.db
      .insertInto('work_sessions')
      .values({ id, user, project, status: 'running', created: t, expires, warned: 0, used: t })
      .execute();
    return this.get(id);
  }

  async find(id: string): Promise<WorkSessionRecord | null> {
    const r = await this.db.selectFrom('work_sessions').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? recordOf(r) : null;
  }

  async get(id: string): Promise<WorkSessionRecord> {
    const s = await this.find(id);
    if (!s) throw notFound(`session ${id}`);
    return s;
  }

  async ofUser(user: string): Promise<WorkSessionRecord[]> {
    const rows = await this.db
      .selectFrom('work_sessions')
      .selectAll()
      .where('user', '=', user)
      .orderBy('created')
      .execute();
    return rows.map(recordOf);
  }

  /** The user's running session used last, if any. */
  async current(user: string): Promise<WorkSessionRecord | null> {
    const r = await this.db
      .selectFrom('work_sessions')
      .selectAll()
      .where('user', '=', user)
      .where('status', '=', 'running')
      .orderBy('used', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r ? recordOf(r) : null;
  }

  async byProject(project: string): Promise<WorkSessionRecord | null> {
    const r = await this.db.selectFrom('work_sessions').selectAll().where('project', '=', project).executeTakeFirst();
    return r ? recordOf(r) : null;
  }

  async running(): Promise<WorkSessionRecord[]> {
    const rows = await this.db.selectFrom('work_sessions').selectAll().where('status', '=', 'running').execute();
    return rows.map(recordOf);
  }

  async update(
    id: string,
    change: { status?: WorkSessionStatus; expires?: string; warned?: boolean; used?: string },
  ): Promise<void> {
    // Only the given columns are set, so two updates at once (say a use and a warning) keep each other's.
    const set = {
      ...(change.status !== undefined && { status: change.status }),
      ...(change.expires !== undefined && { expires: change.expires }),
      ...(change.warned !== undefined && { warned: change.warned ? 1 : 0 }),
      ...(change.used !== undefined && { used: change.used }),
    };
    if (Object.keys(set).length === 0) {
      await this.get(id);
      return;
    }
    const r = await this.db.updateTable('work_sessions').set(set).where('id', '=', id).executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw notFound(`session ${id}`);
  }
}
