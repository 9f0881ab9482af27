import { Worker } from 'node:worker_threads';
import type { Store } from '../store/store.js';
import { importTarget, registerImport, type WrittenImport } from './import.js';

type SlideMessage =
  | { type: 'progress'; done: number; total: number }
  | { type: 'done'; written: WrittenImport }
  | { type: 'error'; message: string };

/**
 * Writes the procedural whole-slide demo image in a worker thread (generating and compressing
 * gigabytes of pixels takes minutes) and indexes it when done; listed among the imports meanwhile.
 */
export function importSlideInBackground(
  store: Store,
  project: string,
  name: string,
  size: { side: number; channels: number },
  log: (line: string) => void,
): void {
  const { id, tmp } = importTarget(store);
  store.imports.start(id, project, name, { width: size.side, height: size.side, channels: size.channels });
  const failed = (message: string) => {
    log(`demo slide failed: ${message}`);
    store.imports.finish(id, new Error(message));
  };
  const workerData = { dir: tmp, side: size.side, channels: size.channels, name };
  const worker = new Worker(new URL('./slide-worker.js', import.meta.url), { workerData });
  worker.on('message', (m: SlideMessage) => {
    if (m.type === 'progress') {
      log(`demo slide: ${Math.round((100 * m.done) / m.total)}%`);
      store.imports.progress(id, m.done);
    } else if (m.type === 'done') {
      registerImport(store, id, tmp, project, name, m.written).then(
        () => {
          store.imports.finish(id);
          log(`demo slide ready: ${name}`);
        },
        (e: Error) => failed(e.message),
      );
      void worker.terminate();
    } else {
      failed(m.message ?? 'unknown error');
      void worker.terminate();
    }
  });
  worker.on('error', (e) => failed(e.message));
}
