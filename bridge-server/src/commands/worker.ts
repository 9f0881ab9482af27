import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { initBackend } from '@impartial/shared/node';
import { parseArgs, UsageError } from '../cli/args.js';
import { ImpartialError } from '../errors.js';
import { startQueueWorker } from '../jobs/queue-worker.js';
import { DataFiles } from '../store/files.js';

export const WORKER_HELP = `impartial worker --queue redis://HOST:PORT [--store s3://...] [--concurrency 1] [options]

Runs the training and inference jobs of bridges started with the same --queue, on any machine
that reaches Redis and the bridges' files: their object storage (bridges started with --store),
or else their data folder (the same path; a network share across machines). Start one per GPU.
A worker killed mid-training is noticed when its job's lock runs out; another worker goes on from
the training's last checkpoint.

  --queue URL       the Redis of the bridges' --queue
  --store URL       the bridges' --store as this machine reaches it (default: the URL each job
                    names); credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY
  --data DIR        this machine's cache of models and checkpoints from the object storage
                    (default: impartial-worker in the system's temporary folder)
  --concurrency N   tasks at once (default 1: one per GPU)
  --lock-ms N       a job's lock, renewed at half of it: a dead worker's job moves after at most
                    this long (default 30000)
  --max-stalls N    times a job may lose its worker before it fails (default 2)
  --name NAME       this worker's name in job logs (default: host and process id)
  --threads N       CPU threads of each task (default: all cores); several CPU workers on one
                    machine split its cores between them`;

export async function workerCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, {
    queue: { kind: 'string' },
    concurrency: { kind: 'number', default: 1 },
    'lock-ms': { kind: 'number', default: 30_000 },
    'max-stalls': { kind: 'number', default: 2 },
    name: { kind: 'string' },
    store: { kind: 'string' },
    data: { kind: 'string', default: path.join(tmpdir(), 'impartial-worker') },
    threads: { kind: 'number' },
  });
  if (a._.length) throw new UsageError(`unexpected argument ${a._[0]}`);
  if (!a.queue) throw new UsageError('--queue redis://... is required');
  const concurrency = a.concurrency as number;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError('--concurrency must be 1 or more');
  const lockMs = a['lock-ms'] as number;
  if (!(lockMs >= 1000)) throw new UsageError('--lock-ms must be at least 1000');
  const name = (a.name as string | undefined) ?? `${hostname()}-${process.pid}`;
  const log = (line: string) => void process.stdout.write(`${line}\n`);
  if (a.threads !== undefined) {
    const threads = a.threads as number;
    if (!Number.isInteger(threads) || threads < 1) throw new UsageError('--threads must be 1 or more');
    // Read when a task thread loads the engine (wasm's pool, oneDNN's OpenMP).
    process.env.IMPARTIAL_WASM_THREADS = String(threads);
    process.env.OMP_NUM_THREADS = String(threads);
  }
  const backend = await initBackend();
  const store = a.store as string | undefined;
  if (store) {
    try {
      (await DataFiles.objectStore(a.data as string, store)).close();
    } catch (e) {
      if (e instanceof ImpartialError) throw new UsageError(e.message);
      throw e;
    }
  }
  log(`${name}: backend ${backend.description}${store ? `; files in ${store}, cached in ${a.data}` : ''}`);
  const worker = await startQueueWorker(a.queue as string, {
    concurrency,
    lockMs,
    maxStalls: a['max-stalls'] as number,
    name,
    log,
    dataDir: a.data as string,
    ...(store ? { store } : {}),
  });
  log(`${name}: waiting for jobs`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await worker.close();
  return 0;
}
