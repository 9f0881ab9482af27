import type { CatalogueEntry, ModelRecord } from '@impartial/shared';
import { ImpartialError } from '../errors.js';
import { type Actor, named, type Services } from '../services/index.js';
import type { StoredImage } from '../services/types.js';

/*
 * MONAI Label's view of the bridge: one project is a client's datastore (the bridge's one MONAI
 * project, or on a multi-user bridge the caller's current work session); images are addressed by
 * name (MONAI's image id), models by channel count (impartial_1, impartial_2, ... as the original
 * ImPartial app names them), backed by the project's current model version.
 */

export interface TaskRecord {
  id: string;
  status: 'SUBMITTED' | 'RUNNING' | 'DONE' | 'ERROR' | 'STOPPED';
  request: Record<string, unknown>;
  start_ts: string;
  end_ts: string;
  details: string[];
  result?: Record<string, unknown>;
}

export const monaiTimestamp = (d = new Date()) => d.toISOString().replace('T', ' ').slice(0, 19);

/** Log lines the bridge keeps for GET /logs/. */
export class LogRing {
  private readonly lines: string[] = [];
  add(line: string): void {
    this.lines.push(`[${monaiTimestamp()}] ${line}`);
    if (this.lines.length > 1000) this.lines.splice(0, this.lines.length - 1000);
  }
  tail(n: number): string[] {
    return this.lines.slice(-n);
  }
}

/** MONAI clients act under this name: it is the author of the strokes an uploaded label set becomes. */
export const MONAI_AUTHOR = 'monai';

/** Which project is a caller's datastore. */
export interface MonaiProjects {
  /** The project the actor's MONAI calls work on, made on first use. */
  of(actor: Actor): Promise<string>;
  /** Whether a project is some caller's datastore: its images go by their names. */
  isDatastore(project: string): Promise<boolean>;
  /** Whether `project` is still the actor's datastore (a work session may have ended); makes nothing. */
  stillCurrent(actor: Actor, project: string): Promise<boolean>;
}

/** The one datastore project of a single-user bridge. */
export function fixedMonaiProject(services: Services, id: string): MonaiProjects {
  return {
    of: async (actor) => (await services.projects.ensure(actor, id, 'MONAI Label datastore')).id,
    isDatastore: async (project) => project === id,
    stillCurrent: async () => true,
  };
}

/** The task records and logs of one datastore: MONAI's app state, kept apart per project. */
export class MonaiTasks {
  readonly logs = new LogRing();
  train: TaskRecord | null = null;
  trainJob: string | null = null;
  /** How the running training's steps map to MONAI's epochs, for its log lines. */
  stepsPerEpoch = 1;
  epochs = 1;
  batch: TaskRecord | null = null;
  batchStop = false;

  constructor(readonly project: string) {}
}

/** The MONAI Label app's state (task records and logs per datastore) and its names for images and models. */
export class MonaiApp {
  private readonly tasksByProject = new Map<string, MonaiTasks>();

  constructor(
    readonly services: Services,
    private readonly projects: MonaiProjects,
  ) {}

  /** The request's actor as MONAI clients act: under the name "monai" (an account keeps its own). */
  actor(base: Actor): Actor {
    return named(base, MONAI_AUTHOR, 'monai');
  }

  /** The datastore project, made on first use. */
  project(actor: Actor): Promise<string> {
    return this.projects.of(actor);
  }

  /** Whether a batch or task begun on `project` may go on: it is still the actor's datastore. */
  stillCurrent(actor: Actor, project: string): Promise<boolean> {
    return this.projects.stillCurrent(actor, project);
  }

  /** The task records of the actor's datastore. */
  async tasks(actor: Actor): Promise<MonaiTasks> {
    const project = await this.project(actor);
    let t = this.tasksByProject.get(project);
    if (!t) {
      t = new MonaiTasks(project);
      this.tasksByProject.set(project, t);
    }
    return t;
  }

  /** The datastore whose training is this job, if any. */
  tasksOfTraining(job: string): MonaiTasks | undefined {
    for (const t of this.tasksByProject.values()) if (t.trainJob === job) return t;
    return undefined;
  }

  async images(actor: Actor): Promise<StoredImage[]> {
    return this.services.images.list(actor, await this.project(actor));
  }

  /** A MONAI image id: an image name in the datastore project, or one of our image ids. */
  async image(actor: Actor, id: string | null): Promise<StoredImage> {
    if (!id) throw new ImpartialError('bad-request', 'the image query parameter is required');
    const byName = await this.services.images.byName(actor, await this.project(actor), id);
    if (byName) return byName;
    try {
      return await this.services.images.get(actor, id);
    } catch {
      throw new ImpartialError('not-found', `image ${id} is not in the datastore`);
    }
  }

  /** MONAI's image id for one of our images. */
  async monaiId(image: StoredImage): Promise<string> {
    return (await this.projects.isDatastore(image.project)) ? image.name : image.id;
  }

  /** The catalogue entry a model name stands for (catalogue_<entry id>), or null for impartial_N. */
  entryOf(model: string): string | null {
    return /^catalogue_([A-Za-z0-9_-]{1,64})$/.exec(model)?.[1] ?? null;
  }

  /** Published models the actor may use, newest versions only. */
  catalogue(actor: Actor): Promise<CatalogueEntry[]> {
    return this.services.catalogue.list(actor, { sort: 'name' });
  }

  async channelsOf(actor: Actor, model: string): Promise<number> {
    const entry = this.entryOf(model);
    if (entry) return (await this.services.catalogue.get(actor, entry)).channels.length;
    const m = /^impartial_(\d+)$/.exec(model);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 64) {
      throw new ImpartialError(
        'not-found',
        `model ${model} (models are impartial_N, N = the image channel count, and catalogue_<entry>)`,
      );
    }
    return Number(m[1]);
  }

  /** impartial_N for 1-3 channels as the original, plus any in the datastore, and the catalogue's models. */
  async modelNames(actor: Actor, given?: readonly CatalogueEntry[]): Promise<string[]> {
    const published = given ?? (await this.catalogue(actor));
    const counts = new Set([1, 2, 3, ...(await this.images(actor)).map((i) => i.channels)]);
    return [
      ...[...counts].sort((a, b) => a - b).map((n) => `impartial_${n}`),
      ...published.map((e) => `catalogue_${e.id}`),
    ];
  }

  /** Whether an image has strokes in effect (MONAI's "final label"). */
  labelled(actor: Actor, image: StoredImage): Promise<boolean> {
    return this.services.labels.hasFinal(actor, image.id);
  }

  /**
   * The model version behind a name: for impartial_N the datastore's (the generic model, added
   * once, when it has none); for catalogue_<entry> the datastore's copy of that published model,
   * made on first use.
   */
  async model(actor: Actor, name: string): Promise<ModelRecord> {
    const entryId = this.entryOf(name);
    if (entryId) {
      const entry = await this.services.catalogue.get(actor, entryId);
      const project = await this.project(actor);
      const copy = (await this.services.models.list(actor, project)).find(
        (m) => m.catalogue === entry.id && m.parent === entry.model,
      );
      return copy ?? (await this.services.catalogue.use(actor, entry.id, project));
    }
    const channels = await this.channelsOf(actor, name);
    try {
      return await this.services.models.forChannels(actor, await this.project(actor), channels);
    } catch (e) {
      if (e instanceof ImpartialError && e.code === 'not-ready') {
        throw new ImpartialError(
          'not-ready',
          `no impartial_${channels} model yet: train one first (POST /train/impartial_${channels})`,
        );
      }
      throw e;
    }
  }
}
