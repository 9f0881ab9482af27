import { availableParallelism } from 'node:os';
import path from 'node:path';
import { type InferRequest, type JobRecord, newId, type ServerMessage, type TrainRequest } from '@impartial/shared';
import { conflict } from '../errors.js';
import { SerialQueue } from '../keyed-queue.js';
import type { Store } from '../store/store.js';
import { JobEvents } from './events.js';
import type { InferTaskSpec } from './infer-task.js';
import { LEASE_MS } from './job-leases.js';
import type { LiveMessage } from './live-training.js';
import type { Publisher } from './publisher.js';
import type { QueueRunner, TaskRun } from './queue.js';
import { type Outcome, type TaskHandlers, TaskThread } from './runner.js';
import type { TrainTaskSpec } from './train-task.js';

/**
 * Inference threads running at once at most: each holds a model and tiles in memory, so a burst
 * of requests queues instead of starting a thread each (trainings are one per project already).
 */
export const MAX_INFERENCE_THREADS = Math.max(1, Math.min(4, availableParallelism() - 1));

/** How often a bridge node on a queue renews its job holds and looks for jobs no node handles. */
const LOOK_MS = Math.floor(LEASE_MS / 5);

interface Running {
  job: JobRecord;
  thread: TaskRun;
  /** A live training: its thread hears new strokes and view moves. */
  live: boolean;
}

interface QueuedTraining {
  job: JobRecord;
  spec: () => Promise<TrainTaskSpec>;
}

export interface JobLimits {
  /** Inference threads at once (each holds a model and tiles in memory). */
  maxInferenceThreads: number;
  /** Jobs (trainings and inferences) running at once on this machine; more wait in line. */
  maxJobs: number;
  /** Tasks go to `impartial worker` processes through this queue instead of threads of the bridge. */
  queue: QueueRunner | null;
  /** Queued trainings save a checkpoint every this many steps (another worker resumes from it). */
  checkpointEvery: number;
}

/**
 * Training and inference jobs, each in its own worker thread. One training per project at a time
 * (another is refused with 409, or queued when asked) and, on a multi-user bridge, one per account;
 * at most `maxJobs` jobs run at once, the rest wait in line and are told their place (the job's
 * `progress.position`). Inference runs beside trainings with the saved weights of the model it
 * names, and a newer inference of the same image and model supersedes an older one. The specs come
 * ready from the services; progress goes out through the publisher. What changes the lines and the
 * running jobs runs one at a time (`exclusive`): each awaits the index, and two at once would both
 * see a free place.
 */
export class JobManager {
  private readonly running = new Map<string, Running>();
  /** Trainings waiting in line, oldest first. */
  private readonly trainQueue: QueuedTraining[] = [];
  private readonly waiters = new Map<string, Array<(j: JobRecord) => void>>();
  /** Inference jobs waiting for the one they supersede to stop, by "image|model". */
  private readonly waitingInfer = new Map<string, string>();
  /** Inference jobs waiting for a free inference thread, oldest first. */
  private readonly inferQueue: Array<{ job: JobRecord; spec: InferTaskSpec }> = [];
  private readonly listeners = new Set<(message: ServerMessage) => void>();
  private readonly publish: Publisher;
  private readonly events: JobEvents;

  private readonly maxInferenceThreads: number;
  private readonly maxJobs: number;
  private readonly queue: QueueRunner | null;
  private readonly checkpointEvery: number;
  private readonly serial = new SerialQueue();
  private readonly looking: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    publisher: Publisher,
    limits: Partial<JobLimits> = {},
    private readonly workerUrl = new URL('./worker.js', import.meta.url),
  ) {
    this.queue = limits.queue ?? null;
    // With workers elsewhere, their count and the queue's priorities decide what runs.
    this.maxInferenceThreads = this.queue
      ? Number.POSITIVE_INFINITY
      : (limits.maxInferenceThreads ?? MAX_INFERENCE_THREADS);
    this.maxJobs = limits.maxJobs ?? Number.POSITIVE_INFINITY;
    this.checkpointEvery = limits.checkpointEvery ?? 25;
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
    this.events = new JobEvents(store, this.publish);
    if (this.queue) {
      this.queue.onCancelAsked((id) => void this.exclusive(() => this.cancelHere(id)).catch(() => {}));
      this.looking = setInterval(() => void this.look(), LOOK_MS);
      this.looking.unref();
    }
  }

  /** Every job this node handles: running, or waiting in one of its lines. */
  private held(): string[] {
    return [
      ...this.running.keys(),
      ...this.trainQueue.map((q) => q.job.id),
      ...this.inferQueue.map((q) => q.job.id),
      ...this.waitingInfer.values(),
    ];
  }

  /**
   * With several bridge nodes: renews this node's holds, takes over the jobs of nodes that stopped,
   * and starts trainings of its line that waited for another node's training of the same project
   * or author to end.
   */
  private async look(): Promise<void> {
    const queue = this.queue!;
    try {
      for (const id of await queue.leases.renew(this.held())) {
        // Stalled past its hold, this node lost the job to another: it stops handling it (only).
        this.running.delete(id);
        queue.detach(id);
        for (const line of [this.trainQueue, this.inferQueue] as Array<Array<{ job: JobRecord }>>) {
          const at = line.findIndex((q) => q.job.id === id);
          if (at >= 0) line.splice(at, 1);
        }
        for (const [key, waiting] of this.waitingInfer) if (waiting === id) this.waitingInfer.delete(key);
      }
      await this.exclusive(async () => {
        const held = new Set(this.held());
        for (const job of await this.store.jobs.unfinished()) {
          if (!held.has(job.id) && (await queue.leases.claim(job.id))) await this.takeOver(job);
        }
        if (this.trainQueue.length) await this.drainNow();
      });
    } catch (e) {
      process.stderr.write(`jobs: ${(e as Error).message}\n`);
    }
  }

  /** A job whose node stopped: handled here from now on, or failed if it never reached the queue. */
  private async takeOver(job: JobRecord): Promise<void> {
    const found = await this.queue!.find(job.id);
    if (!found) {
      const error = 'the bridge node that held it in line stopped';
      this.finish(await this.store.jobs.update(job.id, { status: 'failed', error }));
      return;
    }
    await this.store.jobs.update(job.id, {
      log: 'taken over by another bridge node (the one that queued it stopped)\n',
    });
    this.launch(job, found.spec, true);
  }

  /** A new job is this node's before other nodes can see it. */
  private async hold(jobId: string): Promise<void> {
    await this.queue?.leases.claim(jobId);
  }

  /** Runs `fn` after every change asked for before it has finished. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.serial.run(fn);
  }

  /** Hears every job message (progress, job status, models, tiles); returns the unsubscribe. */
  subscribe(listener: (message: ServerMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Jobs left running by a process that died are failed; the last good model stays current. */
  recover(): Promise<number> {
    return this.store.jobs.failInterrupted();
  }

  /** The project's oldest training waiting in line, if any. */
  queuedTraining(project: string): JobRecord | undefined {
    return this.trainQueue.find((q) => q.job.project === project)?.job;
  }

  /** The project's live training running on this node (its thread hears strokes and views). */
  private liveRun(project: string): Running | undefined {
    return [...this.running.values()].find((r) => r.live && r.job.project === project);
  }

  liveTraining(project: string): JobRecord | undefined {
    return this.liveRun(project)?.job;
  }

  /** Tells the project's live training of new strokes, a view moved or the person's finish; false when none runs. */
  tellLive(project: string, message: LiveMessage): boolean {
    const run = this.liveRun(project);
    if (!(run?.thread instanceof TaskThread)) return false;
    run.thread.post(message);
    return true;
  }

  runningTraining(project: string): JobRecord | undefined {
    return [...this.running.values()].map((r) => r.job).find((j) => j.kind === 'train' && j.project === project);
  }

  /**
   * Starts a training, or queues it: behind the project's running one when `request.queue` is set
   * (else 409), and behind the author's own running training or a full machine in any case.
   */
  startTrain(
    project: string,
    request: TrainRequest,
    spec: () => Promise<TrainTaskSpec>,
    author: string | null = null,
  ): Promise<JobRecord> {
    return this.exclusive(() => this.startTrainNow(project, request, spec, author));
  }

  private async startTrainNow(
    project: string,
    request: TrainRequest,
    spec: () => Promise<TrainTaskSpec>,
    author: string | null,
  ): Promise<JobRecord> {
    if (request.live && this.queue) {
      throw conflict('live mode runs in the bridge itself; this bridge sends trainings to workers (--queue)');
    }
    // The index knows every node's trainings, queued or running.
    const busy = this.runningTraining(project) ?? (await this.store.jobs.activeTraining(project));
    if (busy && !request.queue) {
      throw conflict(`project ${project} is already training (job ${busy.id}); stop it, or ask with queue: true`);
    }
    const id = newId('j');
    await this.hold(id);
    const added = await this.store.jobs.add({
      id,
      project,
      kind: 'train',
      status: 'queued',
      image: null,
      options: request,
      author,
    });
    this.trainQueue.push({ job: added, spec });
    await this.drainNow();
    const job = await this.store.jobs.get(added.id);
    if (job.status === 'queued') this.publish.toProject(project, { type: 'job', job });
    return job;
  }

  /** Whether a queued training may start now: its project and author train nothing, and the machine has room. */
  private mayTrain(job: JobRecord): boolean {
    const running = [...this.running.values()].map((r) => r.job);
    if (running.length >= this.maxJobs) return false;
    return !running.some(
      (j) => j.kind === 'train' && (j.project === job.project || (job.author != null && j.author === job.author)),
    );
  }

  /** Starts what waits in line and may run now (trainings first, in order), then tells the rest their place. */
  private async drainNow(): Promise<void> {
    for (let k = 0; k < this.trainQueue.length; ) {
      const next = this.trainQueue[k]!;
      // A project's trainings start in the order they were asked for.
      const earlier = this.trainQueue.slice(0, k).some((q) => q.job.project === next.job.project);
      if (earlier || !this.mayTrain(next.job)) {
        k++;
        continue;
      }
      try {
        // Refused (null) while another node runs a training of its project or author: it waits for that one.
        const job = await this.store.jobs.startTraining(next.job.id);
        if (!job) {
          k++;
          continue;
        }
        this.trainQueue.splice(k, 1);
        const spec = await next.spec();
        // Viewers tell a live training from others by its result, and find the version it will save.
        const started = spec.live
          ? await this.store.jobs.update(job.id, { result: { live: true, model: spec.modelId } })
          : job;
        this.publish.toProject(job.project, { type: 'job', job: started });
        this.launch(started, spec);
      } catch (e) {
        const at = this.trainQueue.indexOf(next);
        if (at >= 0) this.trainQueue.splice(at, 1);
        this.finish(await this.store.jobs.update(next.job.id, { status: 'failed', error: (e as Error).message }));
      }
    }
    while (this.inferQueue.length > 0 && this.inferenceThreadFree()) {
      const next = this.inferQueue.shift()!;
      await this.launchInfer(next.job, next.spec);
    }
    await this.tellPositions();
  }

  /** Each waiting job's place in its line (1 = next), as `progress.position`, published when it changes. */
  private async tellPositions(): Promise<void> {
    const lines: Array<Array<{ job: JobRecord }>> = [this.trainQueue, this.inferQueue];
    for (const line of lines) {
      for (const [k, q] of line.entries()) {
        if (q.job.progress.position === k + 1) continue;
        q.job = await this.store.jobs.update(q.job.id, { progress: { position: k + 1 } });
        if (q.job.image) this.publish.toImage(q.job.image, { type: 'job', job: q.job });
        else this.publish.toProject(q.job.project, { type: 'job', job: q.job });
      }
    }
  }

  /** Starts an inference; one still running for the same image and model is cancelled and this waits for it. */
  startInfer(
    project: string,
    request: InferRequest,
    spec: InferTaskSpec,
    modelId: string,
    author: string | null = null,
  ): Promise<JobRecord> {
    return this.exclusive(() => this.startInferNow(project, request, spec, modelId, author));
  }

  private async startInferNow(
    project: string,
    request: InferRequest,
    spec: InferTaskSpec,
    modelId: string,
    author: string | null,
  ): Promise<JobRecord> {
    const image = spec.image.id;
    const previous = [...this.running.values()].find(
      (r) =>
        r.job.kind === 'infer' &&
        r.job.image === image &&
        (r.job.result as { model?: string } | null)?.model === modelId,
    );
    // One still waiting for a thread is superseded outright.
    const sameTarget = (q: { job: JobRecord }) =>
      q.job.image === image && (q.job.result as { model?: string } | null)?.model === modelId;
    for (const q of this.inferQueue.filter(sameTarget)) await this.cancelNow(q.job.id);
    const status = previous || !this.inferenceThreadFree() ? 'queued' : 'running';
    const id = newId('j');
    await this.hold(id);
    const added = await this.store.jobs.add({
      id,
      project,
      kind: 'infer',
      status,
      image,
      options: request,
      author,
    });
    const job = await this.store.jobs.update(added.id, { result: { model: modelId } });
    this.publish.toImage(image, { type: 'job', job });
    if (!previous) {
      await this.launchInfer(job, spec);
      return job;
    }
    // Both would write the same prediction folder: the newer starts once the older has stopped.
    const key = `${image}|${modelId}`;
    await this.cancelNow(previous.job.id);
    const waiting = this.waitingInfer.get(key);
    if (waiting) await this.cancelNow(waiting);
    this.waitingInfer.set(key, job.id);
    void this.waitFor(previous.job.id).then(() =>
      this.exclusive(async () => {
        if (this.waitingInfer.get(key) !== job.id) return;
        this.waitingInfer.delete(key);
        await this.launchInfer(job, spec);
      }),
    );
    return job;
  }

  private inferenceThreadFree(): boolean {
    const running = [...this.running.values()];
    if (running.length >= this.maxJobs) return false;
    return running.filter((r) => r.job.kind === 'infer').length < this.maxInferenceThreads;
  }

  /** Runs an inference now when a thread is free, else queues it (it starts when one frees). */
  private async launchInfer(job: JobRecord, spec: InferTaskSpec): Promise<void> {
    if (!this.inferenceThreadFree()) {
      this.inferQueue.push({ job, spec });
      await this.tellPositions();
      return;
    }
    const started =
      job.status === 'running' ? job : await this.store.jobs.update(job.id, { status: 'running', progress: {} });
    if (started !== job) this.publish.toImage(spec.image.id, { type: 'job', job: started });
    this.launch(started, spec);
  }

  cancel(jobId: string): Promise<JobRecord> {
    return this.exclusive(async () => {
      const known = this.held().includes(jobId);
      const job = await this.cancelNow(jobId);
      // Another node handles it: that one is asked (and the worker running it is told at once).
      if (!known && this.queue && (job.status === 'queued' || job.status === 'running')) this.queue.askCancel(jobId);
      return job;
    });
  }

  /** A cancellation asked on another node, of a job this node may hold. */
  private async cancelHere(jobId: string): Promise<void> {
    if (this.held().includes(jobId)) await this.cancelNow(jobId);
  }

  private async cancelNow(jobId: string): Promise<JobRecord> {
    const job = await this.store.jobs.get(jobId);
    for (const [key, id] of this.waitingInfer) {
      if (id !== jobId) continue;
      this.waitingInfer.delete(key);
      return this.finish(await this.store.jobs.update(jobId, { status: 'cancelled' }));
    }
    const waiting = this.inferQueue.findIndex((q) => q.job.id === jobId);
    if (waiting >= 0) {
      this.inferQueue.splice(waiting, 1);
      const cancelled = this.finish(await this.store.jobs.update(jobId, { status: 'cancelled' }));
      await this.tellPositions();
      return cancelled;
    }
    const queued = this.trainQueue.findIndex((q) => q.job.id === jobId);
    if (queued >= 0) {
      this.trainQueue.splice(queued, 1);
      const cancelled = this.finish(await this.store.jobs.update(jobId, { status: 'cancelled' }));
      // A later training of the same project may have waited only for this one.
      await this.drainNow();
      return cancelled;
    }
    this.running.get(jobId)?.thread.cancel();
    return job;
  }

  /** Resolves when the job has finished (done, failed or cancelled). */
  async waitFor(jobId: string): Promise<JobRecord> {
    const job = await this.store.jobs.get(jobId);
    if (job.status !== 'running' && job.status !== 'queued') return job;
    return new Promise((resolve) => this.waiters.set(jobId, [...(this.waiters.get(jobId) ?? []), resolve]));
  }

  active(): JobRecord[] {
    return [...this.running.values()].map((r) => r.job);
  }

  async shutdown(): Promise<void> {
    clearInterval(this.looking);
    const stopped = { status: 'cancelled' as const, error: 'the bridge shut down' };
    for (const id of this.waitingInfer.values()) await this.store.jobs.update(id, stopped);
    this.waitingInfer.clear();
    for (const { job } of this.trainQueue.splice(0)) await this.store.jobs.update(job.id, stopped);
    for (const { job } of this.inferQueue.splice(0)) await this.store.jobs.update(job.id, stopped);
    if (this.queue) {
      // Their workers go on: another bridge node takes them over at once (or this one when it is back).
      await this.queue.leases.release([...this.running.keys()]).catch(() => {});
      this.running.clear();
      return;
    }
    await Promise.all(
      [...this.running.values()].map(async (r) => {
        await r.thread.terminate();
        await this.store.jobs.update(r.job.id, {
          status: 'failed',
          error: 'the bridge shut down while this job was running',
        });
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

  /** A training on a worker elsewhere checkpoints to the shared folder, so that another one can go on. */
  private queued(job: JobRecord, spec: TrainTaskSpec | InferTaskSpec): TrainTaskSpec | InferTaskSpec {
    if (spec.kind !== 'train') return spec;
    return {
      ...spec,
      checkpoint: { dir: path.join(spec.tempDir, 'checkpoints', job.id), every: this.checkpointEvery },
    };
  }

  /** Runs a job's task; `takenOver`: a task another node put on the queue, handled from here on. */
  private launch(job: JobRecord, spec: TrainTaskSpec | InferTaskSpec, takenOver = false): void {
    const progress: Record<string, number> = {};
    // The job is settled by its final event (or by the worker's end, if it never sent one); the
    // thread is then terminated, so the next job of the project can start at once.
    const handlers: TaskHandlers = {
      event: (e) => this.events.handle(job, spec, e, progress),
      settled: (outcome: Outcome) =>
        this.exclusive(async () => {
          this.running.delete(job.id);
          const result = outcome.result
            ? { result: { ...((await this.store.jobs.get(job.id)).result ?? {}), ...outcome.result } }
            : {};
          const error = outcome.error ? { error: outcome.error } : {};
          this.finish(await this.store.jobs.update(job.id, { status: outcome.status, progress, ...error, ...result }));
          await this.drainNow();
        }),
    };
    const thread = !this.queue
      ? new TaskThread(this.workerUrl, spec, handlers)
      : takenOver
        ? this.queue.attach(job.id, handlers)
        : this.queue.start(job.id, this.queued(job, spec), handlers);
    this.running.set(job.id, { job, thread, live: spec.kind === 'train' && spec.live !== undefined });
  }
}
