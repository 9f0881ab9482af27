import { Worker } from 'node:worker_threads';
import { ImpartialError } from '@impartial/shared';
import type { ExportInput } from './export.js';
import type { ImportedPackage } from './import.js';
import type { PackagingTask } from './worker.js';

/*
 * Packaging tasks for the bridge: each runs in a worker thread of its own (worker.ts), so the
 * bridge's thread loads neither the engine's kernels nor onnxruntime nor the schema for them.
 */

const WORKER = new URL('./worker.js', import.meta.url);
/** Packaging tasks at once (each may hold a package and its inflated files), and how many may wait. */
const RUNNING_AT_MOST = 2;
const WAITING_AT_MOST = 16;

let running = 0;
const waiting: Array<() => void> = [];

/** Runs `task` when fewer than RUNNING_AT_MOST run; past WAITING_AT_MOST waiting, refuses it as busy. */
async function limited<T>(task: () => Promise<T>): Promise<T> {
  if (running >= RUNNING_AT_MOST) {
    if (waiting.length >= WAITING_AT_MOST) {
      throw new ImpartialError(
        'busy',
        `${RUNNING_AT_MOST + WAITING_AT_MOST} model packages are being made or read; try again`,
      );
    }
    await new Promise<void>((resolve) => waiting.push(resolve));
  }
  running++;
  try {
    return await task();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

function inWorker<T>(task: PackagingTask): Promise<T> {
  return limited(() => runWorker<T>(task));
}

function runWorker<T>(task: PackagingTask): Promise<T> {
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
