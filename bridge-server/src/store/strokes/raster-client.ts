import { Worker } from 'node:worker_threads';
import type { RasterReply, RasterRequest } from './raster-messages.js';
import type { DistributiveOmit } from './types.js';

/**
 * The bridge's side of the raster worker: requests with ids, answered in order. A worker that
 * dies fails what it was asked and is started again for the next request (`onRestart` lets the
 * owner forget what the old one held).
 */
export class RasterClient {
  private worker: Worker | null = null;
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
      for (const p of this.pending.values()) p.reject(new Error(`the raster worker stopped (${why})`));
      this.pending.clear();
      this.onRestart();
    };
    worker.on('error', (e) => lost(e.message));
    worker.on('exit', (code) => lost(`exit code ${code}`));
    // Idle, the worker does not keep the process alive; a request in flight does (see ask).
    worker.unref();
    return worker;
  }

  /** Sends a request; resolves with its answer, rejects with the worker's error message. */
  ask(request: DistributiveOmit<RasterRequest, 'id'>): Promise<Extract<RasterReply, { ok: true }>> {
    this.worker ??= this.start();
    const id = this.next++;
    const worker = this.worker;
    if (this.pending.size === 0) worker.ref();
    const done = () => {
      if (this.pending.size === 0 && this.worker === worker) worker.unref();
    };
    return new Promise<Extract<RasterReply, { ok: true }>>((resolve, reject) => {
      this.pending.set(id, {
        resolve: (r) => (r.ok ? resolve(r) : reject(new Error(r.message))),
        reject,
      });
      worker.postMessage({ ...request, id });
    }).finally(done);
  }

  /** Sends a request whose answer nobody waits for; a failure is only logged. */
  tell(request: DistributiveOmit<RasterRequest, 'id'>): void {
    this.ask(request).catch((e: Error) => process.stderr.write(`raster worker: ${e.message}\n`));
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}
