import { Worker } from 'node:worker_threads';
import type { InferRequest, JobRecord, ModelRecord, ServerMessage, TrainRequest } from '@impartial/shared';
import { BridgeError } from '../store/errors.js';
import { newId, type Store } from '../store/store.js';
import type { StrokeLog } from '../store/strokes.js';
import type { InferTaskSpec, TileResult } from './infer-task.js';
import type { TrainTaskSpec } from './train-task.js';
import type { WorkerEvent } from './worker-events.js';

/** Where job news goes: every client of an image, or of every image of a project. */
export interface Publisher {
  toImage(imageId: string, message: ServerMessage): void;
  toProject(projectId: string, message: ServerMessage): void;
}

export const TRAIN_DEFAULTS = { seconds: 60, batchSize: 4, patch: 128, depth: 3, base: 16, seed: 0 };
export const INFER_DEFAULTS = { tile: 512, passes: 3 };
/** Suggestions: this many tiles of the image, highest mean entropy first. */
const SUGGESTED_TILES = 10;
/** A cancelled worker that has not stopped by then is terminated. */
const CANCEL_GRACE_MS = 10_000;

type Outcome = { status: 'done' | 'failed' | 'cancelled'; error?: string; result?: Record<string, unknown> };

interface Running {
  worker: Worker;
  job: JobRecord;
  cancelFlag: Int32Array;
  cancelRequested?: boolean;
  cancelTimer?: NodeJS.Timeout;
}

/**
 * Training and inference jobs, each in its own worker thread. One training per project at a time
 * (another is refused with 409 or queued when asked); inference runs beside it with the saved
 * weights of the model it names. Progress goes to every client through the publisher.
 */
export class JobManager {
  private readonly running = new Map<string, Running>();
  private readonly queued = new Map<string, Array<{ job: JobRecord; spec: () => TrainTaskSpec }>>();
  private readonly waiters = new Map<string, Array<(j: JobRecord) => void>>();
  /** Inference jobs waiting for the one they supersede to stop, by "image|model". */
  private readonly waitingInfer = new Map<string, string>();

  private readonly listeners = new Set<(message: ServerMessage) => void>();
  private readonly publish: Publisher;

  constructor(
    private readonly store: Store,
    private readonly strokes: StrokeLog,
    publisher: Publisher,
    private readonly workerUrl = new URL('./worker.js', import.meta.url),
  ) {
    // Everything published about jobs also goes to in-process listeners (the MONAI Label task records).
    const tell = (m: ServerMessage) => {
      for (const l of this.listeners) l(m);
    };
    this.publish = {
      toImage: (id, m) => {
        publisher.toImage(id, m);
        tell(m);
      },
      toProject: (id, m) => {
        publisher.toProject(id, m);
        tell(m);
      },
    };
  }

  /** Hears every job message (progress, job status, models, tiles); returns the unsubscribe. */
  subscribe(listener: (message: ServerMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Jobs left running by a process that died are failed; the last good model stays current. */
  recover(): number {
    return this.store.failInterruptedJobs();
  }

  private runningTraining(project: string): JobRecord | undefined {
    return [...this.running.values()].map((r) => r.job).find((j) => j.kind === 'train' && j.project === project);
  }

  startTrain(projectId: string, request: TrainRequest, author: string): JobRecord {
    const project = this.store.project(projectId);
    const candidates = request.images ? request.images.map((id) => this.store.image(id)) : this.store.images(projectId);
    const foreign = candidates.find((i) => i.project !== projectId);
    if (foreign)
      throw new BridgeError(
        'bad-request',
        `image ${foreign.id} belongs to project ${foreign.project}, not ${projectId}`,
      );
    const images = candidates.filter((i) => this.strokes.drawings(i.id).length > 0);
    const counts = new Map<number, number>();
    for (const i of images)
      for (const [k, v] of this.strokes.raster(i.id).counts()) counts.set(k, (counts.get(k) ?? 0) + v);
    if (!counts.get(1) || !counts.get(2)) {
      throw new BridgeError(
        'bad-request',
        `nothing to train on: draw at least one cell stroke (class 1) and one background stroke (class 2)${request.images ? ' on the images named' : ''}`,
      );
    }
    const fileChannels = images[0]!.channels;
    const mixed = images.find((i) => i.channels !== fileChannels);
    if (mixed)
      throw new BridgeError(
        'bad-request',
        `image ${mixed.id} has ${mixed.channels} channels but ${images[0]!.id} has ${fileChannels}; train images with the same channels`,
      );
    const select = request.channels;
    const outside = select?.find((c) => c >= fileChannels);
    if (outside !== undefined)
      throw new BridgeError('bad-request', `channel ${outside} does not exist (the images have ${fileChannels})`);
    const channels = select?.length ?? fileChannels;
    const channelNames = select ? select.map((c) => images[0]!.channelNames[c]!) : images[0]!.channelNames;
    // By default fine-tune the current model, unless it reads other channels than asked for now.
    const currentFits =
      project.currentModel !== null &&
      this.store.model(project.currentModel).channels.join('\u0000') === channelNames.join('\u0000');
    const init = request.init ?? (currentFits ? 'current' : 'generic');
    if (init === 'current' && !project.currentModel)
      throw new BridgeError('bad-request', 'init "current": the project has no model yet');
    const parent = init === 'current' ? this.store.model(project.currentModel!) : null;
    if (parent && parent.channels.length !== channels)
      throw new BridgeError(
        'bad-request',
        `the current model reads ${parent.channels.length} channels but the images have ${channels}; use init "generic" or "scratch"`,
      );
    const busy = this.runningTraining(projectId);
    if (busy && !request.queue)
      throw new BridgeError(
        'conflict',
        `project ${projectId} is already training (job ${busy.id}); stop it, or ask with queue: true`,
      );
    const job = this.store.addJob({
      id: newId('j'),
      project: projectId,
      kind: 'train',
      status: busy ? 'queued' : 'running',
      image: null,
      options: request,
    });
    const spec = (): TrainTaskSpec => {
      const o = { ...TRAIN_DEFAULTS, ...request };
      const modelId = newId('m');
      const budget =
        request.steps !== undefined
          ? { steps: request.steps, ...(request.seconds !== undefined ? { seconds: request.seconds } : {}) }
          : { seconds: o.seconds };
      return {
        kind: 'train',
        modelId,
        modelDir: this.store.layout.model(modelId),
        tempDir: this.store.layout.temp,
        author,
        strokesHash: this.strokes.hash(images.map((i) => i.id)),
        channelNames,
        parentDir: parent ? this.store.layout.model(parent.id) : null,
        init: init === 'scratch' ? 'scratch' : 'generic',
        images: images.map((i) => ({
          id: i.id,
          dir: i.dir,
          width: i.width,
          height: i.height,
          channels: i.channels,
          norm: i.norm,
          ...(select ? { select } : {}),
          drawings: this.strokes.drawings(i.id),
        })),
        ...budget,
        ...(o.learningRate !== undefined ? { learningRate: o.learningRate } : {}),
        batchSize: o.batchSize,
        patch: o.patch,
        depth: o.depth,
        base: o.base,
        seed: o.seed,
      };
    };
    this.publish.toProject(projectId, { type: 'job', job });
    if (busy) this.queued.set(projectId, [...(this.queued.get(projectId) ?? []), { job, spec }]);
    else this.launch(job, spec());
    return job;
  }

  startInfer(request: InferRequest): JobRecord {
    const image = this.store.image(request.image);
    const project = this.store.project(image.project);
    const modelId = request.model ?? project.currentModel;
    if (!modelId) throw new BridgeError('not-ready', `project ${project.id} has no model yet: train first`);
    const model = this.store.model(modelId);
    if (model.project !== project.id)
      throw new BridgeError('bad-request', `model ${modelId} belongs to project ${model.project}, not ${project.id}`);
    const select = modelChannelsOf(model.channels, image.channelNames);
    if (!select)
      throw new BridgeError(
        'bad-request',
        `model ${modelId} reads channels ${model.channels.join(', ')}; image ${image.id} has ${image.channelNames.join(', ')}`,
      );
    if (request.viewport) {
      const v = request.viewport;
      if (v.x >= image.width || v.y >= image.height)
        throw new BridgeError('bad-request', `viewport starts outside the ${image.width}x${image.height} image`);
    }
    // A newer request for the same image and model supersedes one still running; it starts once that
    // one has stopped, as both write the same prediction folder.
    const key = `${image.id}|${modelId}`;
    const previous = [...this.running.values()].find(
      (r) =>
        r.job.kind === 'infer' &&
        r.job.image === image.id &&
        (r.job.result as { model?: string } | null)?.model === modelId,
    );
    const job = this.store.addJob({
      id: newId('j'),
      project: project.id,
      kind: 'infer',
      status: previous ? 'queued' : 'running',
      image: image.id,
      options: request,
    });
    const withModel = this.store.updateJob(job.id, { result: { model: modelId } });
    const spec: InferTaskSpec = {
      kind: 'infer',
      image: {
        id: image.id,
        dir: image.dir,
        width: image.width,
        height: image.height,
        channels: image.channels,
        norm: image.norm,
        name: image.name,
        levels: image.levels,
        ...(select.length !== image.channels || select.some((c, i) => c !== i) ? { select } : {}),
      },
      modelDir: this.store.layout.model(modelId),
      outDir: this.store.layout.prediction(image.id, modelId),
      tile: request.tile ?? INFER_DEFAULTS.tile,
      passes: request.passes ?? INFER_DEFAULTS.passes,
      ...(request.viewport ? { viewport: clampRect(request.viewport, image.width, image.height) } : {}),
      ...(request.threshold !== undefined ? { threshold: request.threshold } : {}),
    };
    this.publish.toImage(image.id, { type: 'job', job: withModel });
    if (!previous) {
      this.launch(withModel, spec);
      return withModel;
    }
    this.cancel(previous.job.id);
    const waiting = this.waitingInfer.get(key);
    if (waiting) this.cancel(waiting);
    this.waitingInfer.set(key, withModel.id);
    void this.waitFor(previous.job.id).then(() => {
      if (this.waitingInfer.get(key) !== withModel.id) return;
      this.waitingInfer.delete(key);
      const started = this.store.updateJob(withModel.id, { status: 'running' });
      this.publish.toImage(image.id, { type: 'job', job: started });
      this.launch(started, spec);
    });
    return withModel;
  }

  cancel(jobId: string): JobRecord {
    const job = this.store.job(jobId);
    for (const [key, id] of this.waitingInfer) {
      if (id !== jobId) continue;
      this.waitingInfer.delete(key);
      return this.finish(this.store.updateJob(jobId, { status: 'cancelled' }));
    }
    const queue = this.queued.get(job.project) ?? [];
    if (queue.some((q) => q.job.id === jobId)) {
      this.queued.set(
        job.project,
        queue.filter((q) => q.job.id !== jobId),
      );
      return this.finish(this.store.updateJob(jobId, { status: 'cancelled' }));
    }
    const r = this.running.get(jobId);
    if (!r) return job;
    Atomics.store(r.cancelFlag, 0, 1);
    r.worker.postMessage({ type: 'cancel' });
    r.cancelTimer ??= setTimeout(() => {
      void r.worker.terminate();
    }, CANCEL_GRACE_MS);
    r.cancelRequested = true;
    return job;
  }

  /** Resolves when the job has finished (done, failed or cancelled). */
  waitFor(jobId: string): Promise<JobRecord> {
    const job = this.store.job(jobId);
    if (job.status !== 'running' && job.status !== 'queued') return Promise.resolve(job);
    return new Promise((resolve) => this.waiters.set(jobId, [...(this.waiters.get(jobId) ?? []), resolve]));
  }

  active(): JobRecord[] {
    return [...this.running.values()].map((r) => r.job);
  }

  async shutdown(): Promise<void> {
    for (const id of this.waitingInfer.values())
      this.store.updateJob(id, { status: 'cancelled', error: 'the bridge shut down' });
    this.waitingInfer.clear();
    for (const [, q] of this.queued)
      for (const { job } of q) this.store.updateJob(job.id, { status: 'cancelled', error: 'the bridge shut down' });
    this.queued.clear();
    await Promise.all(
      [...this.running.values()].map(async (r) => {
        await r.worker.terminate();
        this.store.updateJob(r.job.id, { status: 'failed', error: 'the bridge shut down while this job was running' });
      }),
    );
    this.running.clear();
  }

  private finish(job: JobRecord): JobRecord {
    if (job.image) this.publish.toImage(job.image, { type: 'job', job });
    else this.publish.toProject(job.project, { type: 'job', job });
    for (const w of this.waiters.get(job.id) ?? []) w(job);
    this.waiters.delete(job.id);
    return job;
  }

  private launch(job: JobRecord, spec: TrainTaskSpec | InferTaskSpec): void {
    const cancelFlag = new SharedArrayBuffer(4);
    // workerData must be an object even when empty: geotiff's web-worker dependency reads it on import.
    const worker = new Worker(this.workerUrl, { workerData: { spec, cancelFlag } });
    const r: Running = { worker, job, cancelFlag: new Int32Array(cancelFlag) };
    this.running.set(job.id, r);
    const progress: Record<string, number> = {};
    let settled = false;
    // The job is settled by its final event (or by the worker's end, if it never sent one); the
    // thread is then terminated, so the next job of the project can start at once.
    const settle = (given: Outcome) => {
      if (settled) return;
      settled = true;
      // A job stopped on request may fail on its way out (a newer inference cleared its folder): it was cancelled.
      const outcome: Outcome = r.cancelRequested && given.status === 'failed' ? { status: 'cancelled' } : given;
      clearTimeout(r.cancelTimer);
      this.running.delete(job.id);
      const record = this.store.updateJob(job.id, {
        status: outcome.status,
        progress,
        ...(outcome.error ? { error: outcome.error } : {}),
        ...(outcome.result ? { result: { ...(this.store.job(job.id).result ?? {}), ...outcome.result } } : {}),
      });
      this.finish(record);
      void worker.terminate();
      if (job.kind === 'train') this.startNextQueued(job.project);
    };
    worker.on('message', (e: WorkerEvent) => {
      if (settled) return;
      let outcome: Outcome | null;
      try {
        outcome = this.onEvent(job, spec, e, progress);
      } catch (err) {
        outcome = { status: 'failed', error: (err as Error).message };
      }
      if (outcome) settle(outcome);
    });
    worker.on('error', (err) => settle({ status: 'failed', error: err.message }));
    worker.on('exit', (code) =>
      settle(
        r.cancelRequested ? { status: 'cancelled' } : { status: 'failed', error: `worker exited with code ${code}` },
      ),
    );
  }

  private startNextQueued(project: string): void {
    const queue = this.queued.get(project);
    const next = queue?.shift();
    if (!next) return;
    try {
      const job = this.store.updateJob(next.job.id, { status: 'running' });
      this.publish.toProject(project, { type: 'job', job });
      this.launch(job, next.spec());
    } catch (e) {
      this.finish(this.store.updateJob(next.job.id, { status: 'failed', error: (e as Error).message }));
    }
  }

  /** Handles one worker event; returns the job's outcome when the event settles it. */
  private onEvent(
    job: JobRecord,
    spec: TrainTaskSpec | InferTaskSpec,
    e: WorkerEvent,
    progress: Record<string, number>,
  ): Outcome | null {
    switch (e.type) {
      case 'log':
        this.store.updateJob(job.id, { log: `${e.line}\n` });
        return null;
      case 'error':
        this.store.updateJob(job.id, { log: `error: ${e.message}\n` });
        return { status: 'failed', error: e.message };
      case 'train-progress': {
        const p = e.progress;
        Object.assign(progress, {
          step: p.step,
          loss: p.loss,
          stepsPerSecond: p.stepsPerSecond,
          etaSeconds: p.etaSeconds,
          elapsedSeconds: p.elapsedSeconds,
          ...(p.totalSteps ? { steps: p.totalSteps } : {}),
        });
        this.store.updateJob(job.id, { progress });
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
        return null;
      }
      case 'train-done': {
        const s = spec as TrainTaskSpec;
        if (e.saved) {
          const l = e.lineage;
          const record: ModelRecord = {
            id: l.id,
            project: job.project,
            parent: l.parent,
            created: l.created,
            author: l.author,
            channels: l.channels,
            steps: l.steps,
            trainSeconds: l.trainSeconds,
            strokesHash: l.strokesHash ?? s.strokesHash,
            metrics: Object.fromEntries(Object.entries(l.metrics ?? {}).filter(([, v]) => Number.isFinite(v))),
          };
          this.store.addModel(record, true);
          this.publish.toProject(job.project, { type: 'model', model: record, current: true });
        }
        return {
          status: e.cancelled ? 'cancelled' : 'done',
          result: { model: e.saved ? e.lineage.id : null, steps: e.steps, seconds: e.seconds },
        };
      }
      case 'tile': {
        const s = spec as InferTaskSpec;
        // The launched record names the model (startInfer set it), so no read per tile.
        const modelId = (job.result as { model: string }).model;
        const prediction = this.store.putPrediction(s.image.id, modelId, { status: 'partial' });
        Object.assign(progress, { done: e.done, total: e.total });
        this.store.updateJob(job.id, { progress });
        const tile = { x: e.tile.x, y: e.tile.y, width: e.tile.width, height: e.tile.height };
        this.publish.toImage(s.image.id, { type: 'tiles', job: job.id, prediction, tiles: [tile] });
        this.publish.toImage(s.image.id, { type: 'infer-progress', job: job.id, done: e.done, total: e.total });
        return null;
      }
      case 'infer-done': {
        const s = spec as InferTaskSpec;
        const modelId = (job.result as { model: string }).model;
        if (e.cancelled) return { status: 'cancelled' };
        const prediction = this.store.putPrediction(s.image.id, modelId, {
          status: 'complete',
          cells: e.cells,
          meanEntropy: e.meanEntropy,
        });
        this.publish.toImage(s.image.id, { type: 'tiles', job: job.id, prediction, tiles: [] });
        this.publish.toImage(s.image.id, {
          type: 'suggestions',
          job: job.id,
          model: modelId,
          tiles: rankTiles(e.tiles),
          images: this.rankImages(job.project),
        });
        return { status: 'done', result: { model: modelId, cells: e.cells, meanEntropy: e.meanEntropy } };
      }
    }
  }

  /** Images of the project by the mean entropy of their latest prediction, highest first. */
  private rankImages(project: string): Array<{ image: string; name: string; entropy: number }> {
    return this.store
      .images(project)
      .map((i) => ({ image: i.id, name: i.name, entropy: this.store.latestPrediction(i.id)?.meanEntropy ?? NaN }))
      .filter((i) => Number.isFinite(i.entropy))
      .sort((a, b) => b.entropy - a.entropy);
  }
}

/**
 * Which image channels a model reads, by name; a model trained on all channels of images with the
 * same count but other names reads them in file order. Null when they cannot be matched.
 */
export function modelChannelsOf(modelChannels: readonly string[], imageChannels: readonly string[]): number[] | null {
  const byName = modelChannels.map((n) => imageChannels.indexOf(n));
  if (byName.every((i) => i >= 0) && new Set(byName).size === byName.length) return byName;
  return modelChannels.length === imageChannels.length ? imageChannels.map((_, i) => i) : null;
}

function rankTiles(
  tiles: readonly TileResult[],
): Array<{ x: number; y: number; width: number; height: number; entropy: number }> {
  return [...tiles]
    .sort((a, b) => b.entropy - a.entropy)
    .slice(0, SUGGESTED_TILES)
    .map((t) => ({ x: t.x, y: t.y, width: t.width, height: t.height, entropy: t.entropy }));
}

function clampRect(r: { x: number; y: number; width: number; height: number }, width: number, height: number) {
  return { x: r.x, y: r.y, width: Math.min(r.width, width - r.x), height: Math.min(r.height, height - r.y) };
}
