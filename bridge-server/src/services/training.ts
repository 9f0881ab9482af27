import { INFERENCE_DEFAULTS, type JobRecord, newId, TRAINING_DEFAULTS, type TrainRequest } from '@impartial/shared';
import { filterAsync } from '../async-filter.js';
import { badRequest, conflict } from '../errors.js';
import { LIVE_SECONDS } from '../jobs/live-training.js';
import { imageRefOf } from '../jobs/region.js';
import type { TrainTaskSpec } from '../jobs/train-task.js';
import type { StoredImage } from '../store/store.js';
import type { Actor } from './actor.js';
import { creditUse } from './catalogue/credit.js';
import type { ServiceContext } from './context.js';
import type { Scope } from './scope.js';

/** Seconds between a live training's refreshes of its view, unless the request says. */
const LIVE_REFRESH_SECONDS = 3;

const sameChannels = (a: readonly string[], b: readonly string[]) => a.join('\u0000') === b.join('\u0000');

/** Training: what to train on and from which model, checked here; the job manager runs it. */
export class TrainingService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly scope: Scope,
  ) {}

  /** Starts (or, with `queue`, queues) a training on the strokes of the project's images. */
  async start(actor: Actor, projectId: string, request: TrainRequest): Promise<JobRecord> {
    const project = await this.scope.project(actor, projectId, 'write');
    const { store, strokes } = this.ctx;
    const candidates = request.images
      ? await Promise.all(request.images.map((id) => this.scope.image(actor, id, 'read')))
      : await store.images.list(project.id);
    const foreign = candidates.find((i) => i.project !== project.id);
    if (foreign) throw badRequest(`image ${foreign.id} belongs to project ${foreign.project}, not ${project.id}`);
    const drawn = await filterAsync(candidates, async (i) => (await strokes.drawings(i.id)).length > 0);
    // Live mode may start before anything is drawn: its training waits for strokes on the image viewed.
    const viewed = request.live ? await this.viewedImage(actor, project.id, request.live.image) : null;
    const images = viewed && !drawn.some((i) => i.id === viewed.id) ? [...drawn, viewed] : drawn;
    if (!viewed) await this.checkStrokes(images, request.images !== undefined);
    const { channels, channelNames, select } = this.channels(images, request.channels);
    // By default fine-tune the current model, unless it reads other channels than asked for now.
    const current = project.currentModel ? await store.models.get(project.currentModel) : null;
    const init = request.init ?? (current && sameChannels(current.channels, channelNames) ? 'current' : 'generic');
    if (init === 'current' && !current) throw badRequest('init "current": the project has no model yet');
    const parent = init === 'current' ? current : null;
    if (parent && parent.channels.length !== channels) {
      throw badRequest(
        `the current model reads ${parent.channels.length} channels but the images have ${channels}; ` +
          'use init "generic" or "scratch"',
      );
    }
    const spec = async (): Promise<TrainTaskSpec> => {
      const o = { ...TRAINING_DEFAULTS, ...request };
      const modelId = newId('m');
      // Live mode stops when the person switches it off, or after LIVE_SECONDS at most.
      const seconds = request.seconds ?? (viewed ? LIVE_SECONDS : o.seconds);
      const budget =
        request.steps !== undefined
          ? { steps: request.steps, ...(request.seconds !== undefined || viewed ? { seconds } : {}) }
          : { seconds };
      return {
        kind: 'train',
        ...store.files.taskSpec(),
        modelId,
        modelDir: store.layout.model(modelId),
        tempDir: store.layout.temp,
        author: actor.name,
        // Taken when the job starts: a queued training uses the strokes drawn while it waited.
        strokesHash: await strokes.hash(images.map((i) => i.id)),
        channelNames,
        parentDir: parent ? store.layout.model(parent.id) : null,
        init: init === 'scratch' ? 'scratch' : 'generic',
        images: await Promise.all(
          images.map(async (i) => ({
            ...imageRefOf(i, select),
            // Read before the drawings: a stroke between the two reads is posted again with its own entry.
            ...(viewed ? { seq: await strokes.lastSeq(i.id) } : {}),
            drawings: await strokes.drawings(i.id),
          })),
        ),
        ...(viewed && request.live
          ? {
              live: {
                image: { ...imageRefOf(viewed, select), name: viewed.name, levels: viewed.levels },
                viewport: request.live.viewport ?? { x: 0, y: 0, width: viewed.width, height: viewed.height },
                refreshSeconds: request.live.refreshSeconds ?? LIVE_REFRESH_SECONDS,
                outDir: store.layout.prediction(viewed.id, modelId),
                tile: INFERENCE_DEFAULTS.tile,
              },
            }
          : {}),
        ...budget,
        learningRate: o.learningRate,
        decay: o.decay,
        dropout: o.dropout,
        batchSize: o.batchSize,
        patch: o.patch,
        depth: o.depth,
        base: o.base,
        seed: o.seed,
      };
    };
    const job = await this.ctx.jobs.startTrain(project.id, request, spec, actor.account?.name ?? null);
    await creditUse(this.ctx.store, actor, parent, 'fine-tune');
    return job;
  }

  /** The image a live training predicts again and again: one of the project's, that the actor may draw on. */
  private async viewedImage(actor: Actor, projectId: string, imageId: string): Promise<StoredImage> {
    const image = await this.scope.image(actor, imageId, 'annotate');
    if (image.project !== projectId)
      throw badRequest(`image ${image.id} belongs to project ${image.project}, not ${projectId}`);
    return image;
  }

  private async checkStrokes(images: StoredImage[], named: boolean): Promise<void> {
    const counts = new Map<number, number>();
    for (const i of images) {
      for (const [k, v] of await this.ctx.strokes.counts(i.id)) counts.set(k, (counts.get(k) ?? 0) + v);
    }
    if (!counts.get(1) || !counts.get(2)) {
      throw badRequest(
        'nothing to train on: draw at least one cell stroke (class 1) and one background stroke (class 2)' +
          (named ? ' on the images named' : ''),
      );
    }
  }

  /** The channels the model reads: all in file order, or the selection asked for. */
  private channels(images: StoredImage[], select: number[] | undefined) {
    const first = images[0]!;
    const mixed = images.find((i) => i.channels !== first.channels);
    if (mixed) {
      throw badRequest(
        `image ${mixed.id} has ${mixed.channels} channels but ${first.id} has ${first.channels}; ` +
          'train images with the same channels',
      );
    }
    const outside = select?.find((c) => c >= first.channels);
    if (outside !== undefined)
      throw badRequest(`channel ${outside} does not exist (the images have ${first.channels})`);
    const channelNames = select ? select.map((c) => first.channelNames[c]!) : first.channelNames;
    return { channels: select?.length ?? first.channels, channelNames, select };
  }

  /** The project's training: the running one, else the one waiting in line; null when none. */
  async running(actor: Actor, projectId: string): Promise<JobRecord | null> {
    const id = (await this.scope.project(actor, projectId, 'read')).id;
    return this.ctx.jobs.runningTraining(id) ?? this.ctx.jobs.queuedTraining(id) ?? null;
  }

  /** Stops a training: the one named, or the project's running (else waiting) one. What it learned is saved. */
  async stop(actor: Actor, projectId: string, jobId?: string): Promise<JobRecord> {
    const project = await this.scope.project(actor, projectId, 'write');
    const target = jobId ?? (this.ctx.jobs.runningTraining(project.id) ?? this.ctx.jobs.queuedTraining(project.id))?.id;
    if (!target) throw conflict(`project ${project.id} is not training`);
    const job = await this.scope.job(actor, target, 'write');
    // Live mode switched off: the training ends as done, and its model version is saved as usual.
    const live = this.ctx.jobs.liveTraining(project.id);
    if (live?.id === job.id && this.ctx.jobs.tellLive(project.id, { type: 'finish' })) return live;
    return this.ctx.jobs.cancel(job.id);
  }
}
