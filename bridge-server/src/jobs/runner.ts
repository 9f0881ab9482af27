import { Worker } from 'node:worker_threads';
import { SerialQueue } from '../keyed-queue.js';
import type { TaskSpec, WorkerEvent } from './worker-events.js';

/** How a job ended. */
export type Outcome = { status: 'done' | 'failed' | 'cancelled'; error?: string; result?: Record<string, unknown> };

/** A cancelled worker that has not stopped by then is terminated. */
const CANCEL_GRACE_MS = 10_000;

export interface TaskHandlers {
  /** One event of the worker; returns the outcome when the event settles the job. */
  event(e: WorkerEvent): Promise<Outcome | null>;
  /** Called once, when the job has its outcome (the thread is being terminated). */
  settled(outcome: Outcome): Promise<void>;
}

/**
 * One train or infer task in its own worker thread. Cancel raises a shared flag (checked after
 * every step and tile, as training does not yield to the thread's event loop) and terminates the
 * thread if it has not stopped after a grace period.
 */
export class TaskThread {
  private readonly worker: Worker;
  private readonly cancelFlag: Int32Array;
  private cancelTimer: NodeJS.Timeout | undefined;
  private settled = false;
  /** Events are handled one after another, in the order the worker sent them, and before its end. */
  private readonly handling = new SerialQueue();
  cancelRequested = false;

  constructor(workerUrl: URL, spec: TaskSpec, handlers: TaskHandlers) {
    const shared = new SharedArrayBuffer(4);
    this.cancelFlag = new Int32Array(shared);
    // workerData must be an object even when empty: geotiff's web-worker dependency reads it on import.
    this.worker = new Worker(workerUrl, { workerData: { spec, cancelFlag: shared } });
    const settle = async (given: Outcome): Promise<void> => {
      if (this.settled) return;
      this.settled = true;
      // A job stopped on request may fail on its way out (a newer inference cleared its folder): it was cancelled.
      const outcome: Outcome = this.cancelRequested && given.status === 'failed' ? { status: 'cancelled' } : given;
      clearTimeout(this.cancelTimer);
      void this.worker.terminate();
      await handlers.settled(outcome).catch((e: Error) => {
        process.stderr.write(`job end: ${e.message}\n`);
      });
    };
    const next = (step: () => Promise<unknown>) => void this.handling.run(step);
    this.worker.on('message', (e: WorkerEvent) =>
      next(async () => {
        if (this.settled) return;
        let outcome: Outcome | null;
        try {
          outcome = await handlers.event(e);
        } catch (err) {
          outcome = { status: 'failed', error: (err as Error).message };
        }
        if (outcome) await settle(outcome);
      }),
    );
    this.worker.on('error', (err) => next(() => settle({ status: 'failed', error: err.message })));
    this.worker.on('exit', (code) =>
      next(() =>
        settle(
          this.cancelRequested
            ? { status: 'cancelled' }
            : { status: 'failed', error: `worker exited with code ${code}` },
        ),
      ),
    );
  }

  cancel(): void {
    Atomics.store(this.cancelFlag, 0, 1);
    this.worker.postMessage({ type: 'cancel' });
    this.cancelTimer ??= setTimeout(() => void this.worker.terminate(), CANCEL_GRACE_MS);
    this.cancelRequested = true;
  }

  /** A message to the task (a live training's news: strokes, view moves, finish). */
  post(message: unknown): void {
    if (!this.settled) this.worker.postMessage(message);
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}
