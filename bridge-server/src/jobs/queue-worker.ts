import path from 'node:path';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { TaskFilesSpec } from '../store/files.js';
import type { QueuedEvent, QueuedOutcome } from './queue.js';
import { CANCEL_CHANNEL, JOB_QUEUE, redisConnection } from './queue-connection.js';
import { type Outcome, TaskThread } from './runner.js';
import type { TaskSpec, WorkerEvent } from './worker-events.js';

export interface QueueWorkerOptions {
  /** Tasks at once (one per GPU: one). */
  concurrency: number;
  /** How long a job's lock lasts unless renewed (renewed at half of it): a dead worker's job moves after it. */
  lockMs: number;
  /** Times a job may lose its worker before it fails. */
  maxStalls: number;
  /** Names this worker in logs and job logs. */
  name: string;
  /** This machine's cache of object storage, for tasks whose folders live there. */
  dataDir: string;
  /** The object storage URL to use instead of the one a task names (another endpoint from here). */
  store?: string;
  log(line: string): void;
}

/**
 * A task made on a bridge whose folders live in object storage: its paths (under that bridge's data
 * folder) move under this worker's cache folder.
 */
export function rebaseSpec<T extends { files?: TaskFilesSpec }>(spec: T, root: string, store?: string): T {
  const files = spec.files;
  if (!files) return spec;
  const under = (v: string) => v === files.root || v.startsWith(files.root + path.sep);
  const move = (v: unknown): unknown => {
    if (typeof v === 'string') return under(v) ? path.join(root, path.relative(files.root, v)) : v;
    if (Array.isArray(v)) return v.map(move);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, move(x)]));
    return v;
  };
  return { ...(move(spec) as T), files: { store: store ?? files.store, root: path.resolve(root) } };
}

/** The last event of a task: what the worker's job ends with (the bridge makes the record of it). */
function finalOutcome(e: WorkerEvent): Outcome | null {
  if (e.type === 'error') return { status: 'failed', error: e.message };
  if (e.type === 'train-done' || e.type === 'infer-done') return { status: e.cancelled ? 'cancelled' : 'done' };
  if (e.type === 'maps-done') return { status: e.written ? 'done' : 'cancelled' };
  return null;
}

/**
 * An `impartial worker`: takes train and infer tasks from the queue and runs each in a worker
 * thread (the process's event loop stays free to renew the job's lock); every event of the task
 * goes back as the job's progress. Cancellations come over Redis pub/sub.
 */
export async function startQueueWorker(url: string, o: QueueWorkerOptions): Promise<{ close(): Promise<void> }> {
  const running = new Map<string, TaskThread>();
  /** Jobs whose lock this worker lost: their events are not passed on. */
  const lost = new Set<string>();
  const sub = new Redis(url, { maxRetriesPerRequest: null });
  sub.on('error', (e: Error) => o.log(`redis: ${e.message}`));
  await sub.subscribe(CANCEL_CHANNEL);
  sub.on('message', (_channel: string, jobId: string) => running.get(jobId)?.cancel());
  const workerUrl = new URL('./worker.js', import.meta.url);
  const worker = new Worker(
    JOB_QUEUE,
    async (job, token) => {
      const given = (job.data as { spec: TaskSpec }).spec;
      const rebased = rebaseSpec(given, o.dataDir, o.store);
      // An inference shares its tiles out through the queue it came from.
      const spec: TaskSpec =
        rebased.kind === 'infer'
          ? {
              ...rebased,
              farm: { queue: url, job: job.id!, priority: job.opts.priority ?? 0, retry: job.attemptsStarted > 1 },
            }
          : rebased;
      o.log(`${o.name}: job ${job.id} (${spec.kind})${job.attemptsStarted > 1 ? ', taken over' : ''}`);
      let n = 0;
      let last: WorkerEvent | undefined;
      return new Promise<QueuedOutcome>((resolve) => {
        const thread = new TaskThread(workerUrl, spec, {
          event: async (e) => {
            const final = finalOutcome(e);
            if (final) last = e;
            // A job's end is told only while this worker still holds it (frozen past its lock, it may not).
            if (final && token) await job.extendLock(token, o.lockMs).catch(() => lost.add(job.id!));
            if (lost.has(job.id!)) return final;
            const sent: QueuedEvent = { n: ++n, event: e.type === 'log' ? { ...e, line: `${o.name}: ${e.line}` } : e };
            await job.updateProgress(sent as unknown as object);
            return final;
          },
          settled: async (outcome) => {
            running.delete(job.id!);
            lost.delete(job.id!);
            // The final event again: a bridge node that takes the job over after it was sent still sees it.
            resolve(last ? { ...outcome, event: last } : outcome);
          },
        });
        running.set(job.id!, thread);
      });
    },
    {
      connection: redisConnection(url),
      concurrency: o.concurrency,
      lockDuration: o.lockMs,
      stalledInterval: Math.max(500, Math.floor(o.lockMs / 2)),
      maxStalledCount: o.maxStalls,
    },
  );
  worker.on('error', (e) => o.log(`${o.name}: ${e.message}`));
  // Frozen past its lock (not dead), this worker's job went to another: it stops, and says nothing more of it.
  worker.on('lockRenewalFailed', (ids) => {
    for (const id of ids) {
      const thread = running.get(id);
      if (!thread || lost.has(id)) continue;
      lost.add(id);
      o.log(`${o.name}: lost the lock of job ${id} (another worker may hold it): stopped`);
      void thread.terminate();
    }
  });
  await worker.waitUntilReady();
  return {
    async close() {
      await worker.close(true);
      for (const t of running.values()) await t.terminate();
      sub.disconnect();
    },
  };
}
