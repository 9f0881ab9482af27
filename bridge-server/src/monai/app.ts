import type { ModelRecord } from '@impartial/shared';
import { ImpartialError } from '../errors.js';
import { type Actor, named, type Services } from '../services/index.js';
import type { StoredImage } from '../services/types.js';

/*
 * MONAI Label's view of the bridge: one project is its datastore; images are addressed by name
 * (MONAI's image id), models by channel count (impartial_1, impartial_2, ... as the original
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

/** The MONAI Label app's state (its task records and logs) and its names for images and models. */
export class MonaiApp {
  readonly logs = new LogRing();
  train: TaskRecord | null = null;
  trainJob: string | null = null;
  batch: TaskRecord | null = null;
  batchStop = false;

  constructor(
    readonly services: Services,
    readonly projectId: string,
  ) {}

  /** The request's actor as MONAI clients act: under the name "monai". */
  actor(base: Actor): Actor {
    return named(base, MONAI_AUTHOR, 'monai');
  }

  /** The datastore project, made on first use. */
  project(actor: Actor): string {
    return this.services.projects.ensure(actor, this.projectId, 'MONAI Label datastore').id;
  }

  images(actor: Actor): StoredImage[] {
    return this.services.images.list(actor, this.project(actor));
  }

  /** A MONAI image id: an image name in the datastore project, or one of our image ids. */
  image(actor: Actor, id: string | null): StoredImage {
    if (!id) throw new ImpartialError('bad-request', 'the image query parameter is required');
    const byName = this.services.images.byName(actor, this.project(actor), id);
    if (byName) return byName;
    try {
      return this.services.images.get(actor, id);
    } catch {
      throw new ImpartialError('not-found', `image ${id} is not in the datastore`);
    }
  }

  /** MONAI's image id for one of our images. */
  monaiId(image: StoredImage): string {
    return image.project === this.projectId ? image.name : image.id;
  }

  channelsOf(model: string): number {
    const m = /^impartial_(\d+)$/.exec(model);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 64) {
      throw new ImpartialError('not-found', `model ${model} (models are impartial_N, N = the image channel count)`);
    }
    return Number(m[1]);
  }

  /** Channel counts the app offers models for: 1-3 as the original, plus any in the datastore. */
  modelNames(actor: Actor): string[] {
    const counts = new Set([1, 2, 3, ...this.images(actor).map((i) => i.channels)]);
    return [...counts].sort((a, b) => a - b).map((n) => `impartial_${n}`);
  }

  /** Whether an image has strokes in effect (MONAI's "final label"). */
  labelled(actor: Actor, image: StoredImage): boolean {
    return this.services.labels.hasFinal(actor, image.id);
  }

  /** The model version behind impartial_N (the generic model, added once, when the project has none). */
  async model(actor: Actor, channels: number): Promise<ModelRecord> {
    try {
      return await this.services.models.forChannels(actor, this.project(actor), channels);
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
