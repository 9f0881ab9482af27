import { parentPort, workerData } from 'node:worker_threads';
import { ImpartialError } from '@impartial/shared';
import { initBackend } from '@impartial/shared/node';
import { buildPackage, type ExportInput } from './export.js';
import { readPackage } from './import.js';

/*
 * A packaging task in its own thread: the schema compile (about a second), the engine's and
 * onnxruntime's passes and the zip stay off the bridge's event loop.
 */

export type PackagingTask = { kind: 'export'; input: ExportInput } | { kind: 'import'; bytes: Uint8Array };

const port = parentPort!;
const task = workerData as PackagingTask;

async function run(): Promise<unknown> {
  // A package's test output is float32 (what ONNX runtimes compute); this thread's env is its own copy.
  process.env.IMPARTIAL_PRECISION = 'f32';
  await initBackend();
  if (task.kind === 'export') {
    const r = await buildPackage(task.input);
    return { zip: r.zip, maxDiff: r.maxDiff };
  }
  return readPackage(task.bytes);
}

run().then(
  (result) => port.postMessage({ ok: true, result }),
  (e: unknown) =>
    port.postMessage({
      ok: false,
      code: e instanceof ImpartialError ? e.code : 'internal',
      message: (e as Error).message ?? String(e),
    }),
);
