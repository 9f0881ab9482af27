import { parentPort, workerData } from 'node:worker_threads';
import { syntheticSlideSource } from '@impartial/shared';
import { writeImport } from './import.js';

/*
 * Writes the procedural whole-slide demo image off the bridge's event loop (generating and
 * compressing 3.2 GB of pixels takes minutes); the bridge registers it when this reports done.
 */
const { dir, side, channels, name } = workerData as { dir: string; side: number; channels: number; name: string };
let last = 0;
writeImport(dir, syntheticSlideSource({ width: side, height: side, channels, seed: 1 }), {
  name,
  onProgress: (done, total) => {
    if (done / total - last >= 0.05 || done === total) {
      last = done / total;
      parentPort!.postMessage({ type: 'progress', done, total });
    }
  },
}).then(
  (written) => parentPort!.postMessage({ type: 'done', written }),
  (e: Error) => parentPort!.postMessage({ type: 'error', message: e.message }),
);
