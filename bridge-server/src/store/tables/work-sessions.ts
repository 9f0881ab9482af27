import { newId } from '@impartial/shared';
import { notFound } from '../../errors.js';
import type { Db } from '../db.js';
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

  add(user: string, project: string, expires: string): WorkSessionRecord {
    const id = newId('s');
    const t = now();
    this.db
      .prepare(`INSERT INTO work_sessions (id, user, project, status, created, expires, used)
        VALUES (?, ?, ?, 'running', ?, ?, ?)`)
      .run(id, user, project, t, expires, t);
    return this.get(id);
  }

  find(id: string): WorkSessionRecord | null {
    const r = this.db.prepare('SELECT * FROM work_sessions WHERE id = ?').get(id) as WorkSessionRow | undefined;
    return r ? recordOf(r) : null;
  }

  get(id: string): WorkSessionRecord {
    const s = this.find(id);
    if (!s) throw notFound(`session ${id}`);
    return s;
  }

  ofUser(user: string): WorkSessionRecord[] {
    const rows = this.db.prepare('SELECT * FROM work_sessions WHERE user = ? ORDER BY created').all(user);
    return (rows as WorkSessionRow[]).map(recordOf);
  }

  /** The user's running session used last, if any. */
  current(user: string): WorkSessionRecord | null {
    const r = this.db
      .prepare("SELECT * FROM work_sessions WHERE user = ? AND status = 'running' ORDER BY used DESC LIMIT 1")
      .get(user) as WorkSessionRow | undefined;
    return r ? recordOf(r) : null;
  }

  byProject(project: string): WorkSessionRecord | null {
    const r = this.db.prepare('SELECT * FROM work_sessions WHERE project = ?').get(project) as
      | WorkSessionRow
      | undefined;
    return r ? recordOf(r) : null;
  }

  running(): WorkSessionRecord[] {
    const rows = this.db.prepare("SELECT * FROM work_sessions WHERE status = 'running'").all();
    return (rows as WorkSessionRow[]).map(recordOf);
  }

  update(id: string, change: { status?: WorkSessionStatus; expires?: string; warned?: boolean; used?: string }): void {
    const s = this.get(id);
    this.db
      .prepare('UPDATE work_sessions SET status = ?, expires = ?, warned = ?, used = ? WHERE id = ?')
      .run(
        change.status ?? s.status,
        change.expires ?? s.expires,
        (change.warned ?? s.warned) ? 1 : 0,
        change.used ?? s.used,
        id,
      );
  }
}
