import { Worker } from 'node:worker_threads';
import { ImpartialError } from '@impartial/shared';
import type { ExportInput } from './export.js';
import type { ImportedPackage } from './import.js';
import type { PackagingTask } from './worker.js';

export { buildPackage, type ExportInput, type ExportResult, ONNX_TOLERANCE } from './export.js';
export { type ImportedPackage, PACKAGE_LIMITS, readPackage } from './import.js';
export type { PackageMeta } from './rdf.js';
export { licenceIds } from './schema.js';

const WORKER = new URL('./worker.js', import.meta.url);

function inWorker<T>(task: PackagingTask): Promise<T> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { workerData: task });
    let settled = false;
    worker.once('message', (m: { ok: true; result: T } | { ok: false; code: string; message: string }) => {
      settled = true;
      if (m.ok) resolve(m.result);
      else reject(new ImpartialError(m.code as ImpartialError['code'], m.message));
      void worker.terminate();
    });
    worker.once('error', (e) => {
      settled = true;
      reject(e);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`the packaging worker exited with code ${code}`));
    });
  });
}

/** A bioimage.io package of a model version, made in a worker thread. */
export function exportInWorker(input: ExportInput): Promise<{ zip: Uint8Array; maxDiff: number }> {
  return inWorker({ kind: 'export', input });
}

/** A bioimage.io package read and checked in a worker thread (InputError when it is refused). */
export function importInWorker(bytes: Uint8Array): Promise<ImportedPackage> {
  return inWorker({ kind: 'import', bytes });
}
