import { Worker } from 'node:worker_threads';
import { ImpartialError } from '../../errors.js';
import type { RasterReply, RasterRequest } from './raster-messages.js';
import type { DistributiveOmit } from './types.js';

/**
 * The bridge's side of the raster worker: requests with ids, each answered by its id (a flush
 * may answer after later requests). A worker that dies fails what it was asked and is started
 * again for the next request (`onRestart` lets the owner forget what the old one held).
 */
export class RasterClient {
  private worker: Worker | null = null;
  private closed = false;
  private next = 1;
  private readonly pending = new Map<number, { resolve: (r: RasterReply) => void; reject: (e: Error) => void }>();

  constructor(private readonly onRestart: () => void) {}

  private start(): Worker {
    const worker = new Worker(new URL('./raster-worker.js', import.meta.url), { workerData: {} });
    worker.on('message', (r: RasterReply) => {
      const p = this.pending.get(r.id);
      this.pending.delete(r.id);
      p?.resolve(r);
    });
    const lost = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = null;
      this.failPending(`the raster worker stopped (${why}); it starts again on the next request`);
      this.onRestart();
    };
    worker.on('error', (e) => lost(e.message));
    worker.on('exit', (code) => lost(`exit code ${code}`));
    // Idle, the worker does not keep the process alive; a request in flight does (see ask).
    worker.unref();
    return worker;
  }

  private failPending(why: string): void {
    for (const p of this.pending.values()) p.reject(new ImpartialError('unavailable', why));
    this.pending.clear();
  }

  /** Sends a request; resolves with its answer, rejects with the worker's error message. */
  ask(request: DistributiveOmit<RasterRequest, 'id'>): Promise<Extract<RasterReply, { ok: true }>> {
    if (this.closed) return Promise.reject(new ImpartialError('unavailable', 'the bridge is shutting down'));
    this.worker ??= this.start();
    const id = this.next++;
    const worker = this.worker;
    if (this.pending.size === 0) worker.ref();
    const done = () => {
      if (this.pending.size === 0 && this.worker === worker) worker.unref();
    };
    return new Promise<Extract<RasterReply, { ok: true }>>((resolve, reject) => {
      this.pending.set(id, {
        resolve: (r) => (r.ok ? resolve(r) : reject(new ImpartialError('unavailable', r.message))),
        reject,
      });
      worker.postMessage({ ...request, id });
    }).finally(done);
  }

  /** Stops the worker; what it was still asked fails, and nothing more is sent to it. */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    this.failPending('the bridge is shutting down');
    if (w) await w.terminate();
  }
}
