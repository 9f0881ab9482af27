import { parentPort, workerData } from 'node:worker_threads';
import { runInferTask } from './infer-task.js';
import { LiveInbox, type LiveMessage } from './live-training.js';
import { runTileMapsTask } from './tile-maps.js';
import { runTrainTask } from './train-task.js';
import type { TaskSpec, WorkerEvent } from './worker-events.js';

/*
 * Entry of a job's worker thread: runs one train or infer task and reports over the port.
 * Training here keeps the bridge's event loop free (WebSocket fan-out, strokes, HTTP).
 */

const port = parentPort!;
const controller = new AbortController();
const { spec, cancelFlag } = workerData as { spec: TaskSpec; cancelFlag: SharedArrayBuffer };
// Training steps do not yield to this thread's event loop, so a cancel message could wait for
// ever; the bridge also raises a shared flag, checked after every step and tile.
const flag = new Int32Array(cancelFlag);
const checkCancel = () => {
  if (Atomics.load(flag, 0) === 1 && !controller.signal.aborted) controller.abort();
};
const post = (e: WorkerEvent) => port.postMessage(e);
// A live training hears of new strokes and view moves between its steps.
const inbox = spec.kind === 'train' && spec.live ? new LiveInbox(spec.live.image.id) : null;
port.on('message', (m: { type: 'cancel' } | LiveMessage) => {
  if (m.type === 'cancel') controller.abort();
  else inbox?.take(m);
});

async function main(): Promise<void> {
  const log = (line: string) => post({ type: 'log', line });
  if (spec.kind === 'train') {
    let last = 0;
    const r = await runTrainTask(
      spec,
      {
        signal: controller.signal,
        log,
        progress: (p) => {
          checkCancel();
          // At most ~5 messages a second: every client sees them, and steps can be fast with tiny nets.
          const t = performance.now();
          if (t - last < 200 && p.step !== p.totalSteps) return;
          last = t;
          post({ type: 'train-progress', progress: p });
        },
      },
      inbox ? { inbox, post } : undefined,
    );
    post({
      type: 'train-done',
      lineage: r.model.lineage,
      steps: r.steps,
      seconds: r.seconds,
      cancelled: r.cancelled,
      saved: r.steps > 0,
    });
  } else if (spec.kind === 'tile-maps') {
    const written = await runTileMapsTask(spec, { signal: controller.signal, log });
    post({ type: 'maps-done', written });
  } else {
    const r = await runInferTask(spec, {
      signal: controller.signal,
      log,
      tile: (tile, done, total) => {
        checkCancel();
        post({ type: 'tile', tile, done, total });
      },
    });
    post({ type: 'infer-done', cells: r.cells, meanEntropy: r.meanEntropy, tiles: r.tiles, cancelled: r.cancelled });
  }
}

// The bridge terminates this thread once it has the final event (wasm's pthreads would keep it alive;
// exiting here could drop that event).
main().catch((e: Error) => post({ type: 'error', message: e.message || String(e) }));
