import { Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { KeyedQueue } from '../keyed-queue.js';
import type { InferTaskSpec } from './infer-task.js';
import { JobLeases } from './job-leases.js';
import { CANCEL_ASK_CHANNEL, CANCEL_CHANNEL, JOB_QUEUE, redisConnection } from './queue-connection.js';
import type { Outcome, TaskHandlers } from './runner.js';
import type { TrainTaskSpec } from './train-task.js';
import type { WorkerEvent } from './worker-events.js';

/*
 * Jobs through BullMQ on Redis: the bridge adds train and infer tasks to one queue, `impartial
 * worker` processes on any machine that reaches Redis run them (one task per GPU), and what their
 * worker threads report comes back as job progress, in order, to the bridge that asked.
 */

/** One event of a task as its worker passes it on (numbered: the order a bridge handles them in). */
export interface QueuedEvent {
  n: number;
  event: WorkerEvent;
}

/** What a worker's job ends with: the outcome, and the task's final event (for a node that missed it). */
export type QueuedOutcome = Outcome & { event?: WorkerEvent };

/** A task under way: what the job manager holds of it. */
export interface TaskRun {
  cancel(): void;
  terminate(): Promise<unknown>;
}

/** Viewport inference first, trainings next, whole-image inference last (BullMQ: lower runs first). */
export function priorityOf(spec: TrainTaskSpec | InferTaskSpec): number {
  if (spec.kind === 'train') return 5;
  return spec.viewport ? 1 : 10;
}

/** The bridge's side: adds tasks and hands their workers' events to the job manager's handlers. */
export class QueueRunner {
  private readonly handlers = new Map<string, { handlers: TaskHandlers; settled: boolean }>();
  /** Per job, what came from its worker, handled in order. */
  private readonly steps = new KeyedQueue();

  /** Which node handles which job. */
  readonly leases: JobLeases;
  private cancelAsked: (jobId: string) => void = () => {};

  private constructor(
    private readonly queue: Queue,
    private readonly events: QueueEvents,
    private readonly pub: Redis,
    private readonly sub: Redis,
    node: string,
  ) {
    this.leases = new JobLeases(pub, node);
    events.on('progress', ({ jobId, data }) => {
      const e = data as unknown as QueuedEvent;
      if (e && typeof e === 'object' && 'event' in e) this.step(jobId, async (h) => h.event(e.event));
    });
    events.on('completed', ({ jobId, returnvalue }) => {
      this.step(jobId, (h) => this.ended(h, returnvalue as unknown as QueuedOutcome | undefined));
    });
    events.on('failed', ({ jobId, failedReason }) => {
      // A failed attempt with tries left waits for another worker; only the last settles the job.
      this.step(jobId, async () => {
        const job = await Job.fromId(this.queue, jobId);
        const state = job ? await job.getState() : 'failed';
        return state === 'failed' ? { status: 'failed', error: failedReason } : null;
      });
    });
  }

  /** `node` names this bridge node in the job holds. */
  static async connect(url: string, node: string): Promise<QueueRunner> {
    const connection = redisConnection(url);
    const queue = new Queue(JOB_QUEUE, { connection });
    const events = new QueueEvents(JOB_QUEUE, { connection });
    const pub = new Redis(url, { maxRetriesPerRequest: null });
    const sub = new Redis(url, { maxRetriesPerRequest: null });
    const report = (e: Error) => void process.stderr.write(`job queue: ${e.message}\n`);
    queue.on('error', report);
    events.on('error', report);
    pub.on('error', report);
    sub.on('error', report);
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady(), sub.subscribe(CANCEL_ASK_CHANNEL)]);
    const runner = new QueueRunner(queue, events, pub, sub, node);
    sub.on('message', (_channel: string, jobId: string) => runner.cancelAsked(jobId));
    return runner;
  }

  /** Hears cancellations asked on other nodes, of jobs this node may handle. */
  onCancelAsked(listener: (jobId: string) => void): void {
    this.cancelAsked = listener;
  }

  /** Asks the node that handles a job to cancel it (this one does not). */
  askCancel(jobId: string): void {
    this.pub.publish(CANCEL_ASK_CHANNEL, jobId).catch((e: Error) => {
      process.stderr.write(`job ${jobId}: ${e.message}\n`);
    });
  }

  /** A job's end: its final event is handled here if it was missed (a node that took the job over). */
  private async ended(h: TaskHandlers, given: QueuedOutcome | undefined): Promise<Outcome> {
    const { event, ...outcome } = given ?? { status: 'done' as const };
    return (event ? await h.event(event) : null) ?? outcome;
  }

  /** A job's task as the queue holds it, or null when the queue has no such job. */
  async find(jobId: string): Promise<{ spec: TrainTaskSpec | InferTaskSpec } | null> {
    const job = await Job.fromId(this.queue, jobId);
    return job ? { spec: (job.data as { spec: TrainTaskSpec | InferTaskSpec }).spec } : null;
  }

  /**
   * Handles a job another node queued (it stopped): its events from now on, and its end, also
   * when it ended before this (from what the queue kept of it).
   */
  attach(jobId: string, handlers: TaskHandlers): TaskRun {
    this.handlers.set(jobId, { handlers, settled: false });
    void Job.fromId(this.queue, jobId).then(async (job) => {
      const state = job ? await job.getState() : 'unknown';
      if (state === 'completed') this.step(jobId, (h) => this.ended(h, job!.returnvalue as QueuedOutcome));
      else if (state === 'failed') this.step(jobId, async () => ({ status: 'failed', error: job!.failedReason }));
      else if (state === 'unknown') this.step(jobId, async () => ({ status: 'failed', error: 'the queue lost it' }));
    });
    return this.run(jobId);
  }

  /** Handles one thing of a job after the ones before it; an outcome settles the job (once). */
  private step(jobId: string, fn: (h: TaskHandlers) => Promise<Outcome | null>): void {
    const entry = this.handlers.get(jobId);
    if (!entry) return;
    this.steps
      .run(jobId, async () => {
        if (entry.settled) return;
        let outcome: Outcome | null;
        try {
          outcome = await fn(entry.handlers);
        } catch (e) {
          outcome = { status: 'failed', error: (e as Error).message };
        }
        if (!outcome) return;
        entry.settled = true;
        this.handlers.delete(jobId);
        await entry.handlers.settled(outcome);
      })
      .catch((e: Error) => void process.stderr.write(`job ${jobId}: ${e.message}\n`));
  }

  start(jobId: string, spec: TrainTaskSpec | InferTaskSpec, handlers: TaskHandlers): TaskRun {
    this.handlers.set(jobId, { handlers, settled: false });
    this.queue
      .add(
        spec.kind,
        { spec },
        {
          jobId,
          priority: priorityOf(spec),
          // Crashed workers are what retries are for: a task's own error is its outcome.
          attempts: 1,
          removeOnComplete: 1000,
          removeOnFail: 1000,
        },
      )
      .catch((e: Error) => this.step(jobId, async () => ({ status: 'failed', error: `queue: ${e.message}` })));
    return this.run(jobId);
  }

  /** This node no longer handles the job (another took it over). */
  detach(jobId: string): void {
    this.handlers.delete(jobId);
  }

  private run(jobId: string): TaskRun {
    return {
      cancel: () => {
        void this.pub.publish(CANCEL_CHANNEL, jobId);
        // Still waiting for a worker: taken out of the queue, cancelled at once.
        void Job.fromId(this.queue, jobId).then(async (job) => {
          if (!job || !['waiting', 'prioritized', 'delayed'].includes(await job.getState())) return;
          await job.remove();
          this.step(jobId, async () => ({ status: 'cancelled' }));
        });
      },
      terminate: async () => this.handlers.delete(jobId),
    };
  }

  /** Closes cleanly when Redis answers, and at once after 2 s when it does not (the bridge still stops). */
  async close(): Promise<void> {
    const closed = Promise.all([this.events.close(), this.queue.close()]).catch(() => {});
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    // Not awaited: without Redis, a disconnect waits on the reconnection it cancels.
    void Promise.all([this.events.disconnect(), this.queue.disconnect()]).catch(() => {});
    this.pub.disconnect();
    this.sub.disconnect();
  }
}
