import { filterAsync } from '../../async-filter.js';
import { forbidden, notFound } from '../../errors.js';
import type { WorkSessionRecord } from '../../store/tables/work-sessions.js';
import type { Actor } from '../actor.js';
import type { ServiceContext } from '../context.js';
import type { ProjectService } from '../projects.js';

/*
 * Work sessions, as the original ImPartial cloud plugin knows them: a user's workspace (one project
 * with its images, strokes, models and predictions). A session runs for `hours` (the original's
 * 2), is warned 5 minutes before it expires and may be extended. Ending it (or its expiry) cancels
 * its jobs and frees what the bridge holds for it in memory; every byte of its data stays, and
 * restoring it (also after a restart) brings it all back under the same id.
 */

export interface WorkSessionOptions {
  hours: number;
  warnMinutes: number;
  /** How often expiries are looked at. */
  tickMs: number;
}

export const WORK_SESSION_DEFAULTS: WorkSessionOptions = { hours: 2, warnMinutes: 5, tickMs: 15_000 };

export interface WorkSessionSummary {
  created_at: string;
  status: WorkSessionRecord['status'];
  expires: string;
  project: string;
  images: string[];
  labels: string[];
}

const inHours = (h: number) => new Date(Date.now() + h * 3600_000).toISOString();

export class WorkSessions {
  constructor(
    private readonly ctx: ServiceContext,
    /** Makes each session's project, owned by its account as any project it makes. */
    private readonly projects: ProjectService,
    readonly options: WorkSessionOptions = WORK_SESSION_DEFAULTS,
  ) {}

  private userOf(actor: Actor): string {
    if (!actor.account) throw notFound('work sessions (this bridge has no accounts)');
    return actor.account.id;
  }

  private checkWrites(actor: Actor): void {
    if (actor.account?.readOnly)
      throw forbidden('a read-only token may not start, restore, extend or end work sessions');
  }

  /** A new session with a project of its own, owned by the user and shared in their home group. */
  async start(actor: Actor): Promise<WorkSessionRecord> {
    this.checkWrites(actor);
    const user = this.userOf(actor);
    const project = await this.projects.create(
      actor,
      `session ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`,
    );
    return this.ctx.store.sessions.add(user, project.id, inHours(this.options.hours));
  }

  /** The user's current session (running, used last); null when none runs. */
  current(actor: Actor): Promise<WorkSessionRecord | null> {
    return this.ctx.store.sessions.current(this.userOf(actor));
  }

  /** The current session, started when none runs (MONAI Label clients that know nothing of sessions). */
  async ensure(actor: Actor): Promise<WorkSessionRecord> {
    return (await this.current(actor)) ?? (await this.start(actor));
  }

  /** Whether a project is some session's workspace. */
  async isSessionProject(project: string): Promise<boolean> {
    return (await this.ctx.store.sessions.byProject(project)) !== null;
  }

  async get(actor: Actor, id: string): Promise<WorkSessionRecord> {
    const s = await this.ctx.store.sessions.find(id);
    // Another user's session answers as a missing one.
    if (!s || s.user !== this.userOf(actor)) throw notFound(`session ${id}`);
    return s;
  }

  async list(actor: Actor): Promise<Record<string, WorkSessionSummary>> {
    const out: Record<string, WorkSessionSummary> = {};
    for (const s of await this.ctx.store.sessions.ofUser(this.userOf(actor))) {
      const images = await this.ctx.store.images.list(s.project);
      out[s.id] = {
        created_at: s.created,
        status: s.status,
        expires: s.expires,
        project: s.project,
        images: images.map((i) => i.name),
        labels: (await filterAsync(images, async (i) => (await this.ctx.strokes.drawings(i.id)).length > 0)).map(
          (i) => i.name,
        ),
      };
    }
    return out;
  }

  async restore(actor: Actor, id: string): Promise<WorkSessionRecord> {
    this.checkWrites(actor);
    const s = await this.get(actor, id);
    const at = new Date().toISOString();
    await this.ctx.store.sessions.update(s.id, {
      status: 'running',
      expires: inHours(this.options.hours),
      warned: false,
      used: at,
    });
    return this.ctx.store.sessions.get(s.id);
  }

  /** Moves the current session's expiry to `hours` from now. */
  async extend(actor: Actor): Promise<WorkSessionRecord> {
    this.checkWrites(actor);
    const s = await this.current(actor);
    if (!s) throw notFound('a running session (POST /session starts one)');
    await this.ctx.store.sessions.update(s.id, { expires: inHours(this.options.hours), warned: false });
    return this.ctx.store.sessions.get(s.id);
  }

  /** Ends the current session (or the one named). */
  async end(actor: Actor, id?: string): Promise<WorkSessionRecord> {
    this.checkWrites(actor);
    const s = id ? await this.get(actor, id) : await this.current(actor);
    if (!s) throw notFound('a running session');
    await this.endSession(s);
    return this.ctx.store.sessions.get(s.id);
  }

  /** Cancels the session's jobs and frees its cached rasters; the data stays. */
  private async endSession(s: WorkSessionRecord): Promise<void> {
    await this.ctx.store.sessions.update(s.id, { status: 'ended' });
    for (const job of await this.ctx.store.jobs.list(s.project)) {
      if (job.status !== 'running' && job.status !== 'queued') continue;
      try {
        await this.ctx.jobs.cancel(job.id);
      } catch {
        // It finished in between.
      }
    }
    const images = await this.ctx.store.images.list(s.project);
    await Promise.all(images.map((i) => this.ctx.strokes.forget(i.id)));
    this.ctx.hub.toProject(s.project, { type: 'session', session: s.id, state: 'ended', expires: s.expires });
  }

  /** Warns sessions about to expire and ends expired ones; the bridge calls it on a timer. */
  async tick(at = Date.now()): Promise<void> {
    for (const listed of await this.ctx.store.sessions.running()) {
      // Read again: ending the one before took a while, and this one may have been extended or ended meanwhile.
      const s = await this.ctx.store.sessions.get(listed.id);
      if (s.status !== 'running') continue;
      const left = Date.parse(s.expires) - at;
      if (left <= 0) await this.endSession(s);
      else if (left <= this.options.warnMinutes * 60_000 && !s.warned) {
        await this.ctx.store.sessions.update(s.id, { warned: true });
        this.ctx.hub.toProject(s.project, { type: 'session', session: s.id, state: 'expiring', expires: s.expires });
      }
    }
  }
}
