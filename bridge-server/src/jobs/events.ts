import type { JobRecord } from '@impartial/shared';
import { modelRecordOf, type Store } from '../store/store.js';
import type { InferTaskSpec } from './infer-task.js';
import type { Publisher } from './publisher.js';
import type { Outcome } from './runner.js';
import { rankImages, rankTiles } from './suggestions.js';
import type { TrainTaskSpec } from './train-task.js';
import type { WorkerEvent } from './worker-events.js';

/**
 * What a worker's events mean for the store and the clients: log lines and progress on the job
 * record, a new model version when a training saves one, prediction tiles as they land, and the
 * suggestions when an inference completes.
 */
export class JobEvents {
  constructor(
    private readonly store: Store,
    private readonly publish: Publisher,
  ) {}

  /** Handles one event; returns the job's outcome when the event settles it. */
  async handle(
    job: JobRecord,
    spec: TrainTaskSpec | InferTaskSpec,
    e: WorkerEvent,
    progress: Record<string, number>,
  ): Promise<Outcome | null> {
    switch (e.type) {
      case 'log':
        await this.store.jobs.update(job.id, { log: `${e.line}\n` });
        return null;
      case 'error':
        await this.store.jobs.update(job.id, { log: `error: ${e.message}\n` });
        return { status: 'failed', error: e.message };
      case 'train-progress':
        await this.trainProgress(job, e.progress, progress);
        return null;
      case 'train-done':
        if (e.saved) {
          const record = modelRecordOf(
            { ...e.lineage, strokesHash: e.lineage.strokesHash ?? (spec as TrainTaskSpec).strokesHash },
            job.project,
          );
          await this.store.models.add(record, true);
          this.publish.toProject(job.project, { type: 'model', model: record, current: true });
        }
        return {
          status: e.cancelled ? 'cancelled' : 'done',
          result: { model: e.saved ? e.lineage.id : null, steps: e.steps, seconds: e.seconds },
        };
      case 'maps-done': // a share of another job's tiles: not a job of the bridge's
        return null;
      case 'tile':
        await this.tile(job, spec as InferTaskSpec, e, progress);
        return null;
      case 'live-tile':
      case 'live-refreshed':
        await this.liveRefresh(job, e);
        return null;
      case 'infer-done': {
        if (e.cancelled) return { status: 'cancelled' };
        const s = spec as InferTaskSpec;
        const model = modelOf(job);
        const done = { status: 'complete' as const, cells: e.cells, meanEntropy: e.meanEntropy };
        const prediction = await this.store.predictions.put(s.image.id, model, done);
        this.publish.toImage(s.image.id, { type: 'tiles', job: job.id, prediction, tiles: [] });
        this.publish.toImage(s.image.id, {
          type: 'suggestions',
          job: job.id,
          model,
          tiles: rankTiles(e.tiles),
          images: await rankImages(this.store, job.project),
        });
        return { status: 'done', result: { model, cells: e.cells, meanEntropy: e.meanEntropy } };
      }
    }
  }

  /** A live training's refresh of its view: the prediction by the version it will save, tile by tile. */
  private async liveRefresh(
    job: JobRecord,
    e: Extract<WorkerEvent, { type: 'live-tile' | 'live-refreshed' }>,
  ): Promise<void> {
    const fields =
      e.type === 'live-tile'
        ? { status: 'partial' as const }
        : { status: 'complete' as const, cells: e.cells, meanEntropy: e.meanEntropy };
    const prediction = await this.store.predictions.put(e.image, e.model, fields);
    // A complete refresh names no tile: the coarse levels were rebuilt, so every tile may have changed.
    const tiles =
      e.type === 'live-tile' ? [{ x: e.tile.x, y: e.tile.y, width: e.tile.width, height: e.tile.height }] : [];
    const live = { step: e.step, strokes: e.strokes };
    this.publish.toImage(e.image, { type: 'tiles', job: job.id, prediction, tiles, live });
  }

  private async trainProgress(
    job: JobRecord,
    p: Extract<WorkerEvent, { type: 'train-progress' }>['progress'],
    progress: Record<string, number>,
  ): Promise<void> {
    Object.assign(progress, {
      step: p.step,
      loss: p.loss,
      stepsPerSecond: p.stepsPerSecond,
      etaSeconds: p.etaSeconds,
      elapsedSeconds: p.elapsedSeconds,
      ...(p.totalSteps ? { steps: p.totalSteps } : {}),
    });
    await this.store.jobs.update(job.id, { progress });
    this.publish.toProject(job.project, {
      type: 'train-progress',
      job: job.id,
      step: p.step,
      steps: p.totalSteps ?? null,
      elapsedSeconds: p.elapsedSeconds,
      loss: p.loss,
      lossForeground: p.lossForeground,
      lossBackground: p.lossBackground,
      lossReconstruction: p.lossReconstruction,
      stepsPerSecond: p.stepsPerSecond,
      etaSeconds: Number.isFinite(p.etaSeconds) ? p.etaSeconds : -1,
    });
  }

  private async tile(
    job: JobRecord,
    s: InferTaskSpec,
    e: Extract<WorkerEvent, { type: 'tile' }>,
    progress: Record<string, number>,
  ): Promise<void> {
    const prediction = await this.store.predictions.put(s.image.id, modelOf(job), { status: 'partial' });
    Object.assign(progress, { done: e.done, total: e.total });
    await this.store.jobs.update(job.id, { progress });
    const tile = { x: e.tile.x, y: e.tile.y, width: e.tile.width, height: e.tile.height };
    this.publish.toImage(s.image.id, { type: 'tiles', job: job.id, prediction, tiles: [tile] });
    this.publish.toImage(s.image.id, { type: 'infer-progress', job: job.id, done: e.done, total: e.total });
  }
}

/** The model an inference job uses: its launched record names it (no read per tile). */
const modelOf = (job: JobRecord) => (job.result as { model: string }).model;
