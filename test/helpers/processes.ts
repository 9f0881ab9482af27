/* `impartial serve` nodes and `impartial worker` processes of the scale-out tests, each in a process of its own. */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './paths.js';
import { waitFor } from './wait.js';

export interface CliProcess {
  name: string;
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  out: () => string;
}

function startCli(name: string, args: string[], env: Record<string, string> = {}): CliProcess {
  const bin = path.join(repoRoot, 'bridge-server', 'bin', 'impartial.js');
  const child = spawn(process.execPath, [bin, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  const keep = (d: Buffer) => {
    out += d;
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return { name, child, out: () => out };
}

/** A bridge node (`impartial serve` with `args`: --data, --db, --queue, ...) and its address once it listens. */
export interface NodeProcess extends CliProcess {
  url: string;
  token: string;
}

export async function spawnNode(args: string[], token: string): Promise<NodeProcess> {
  const p = startCli('node', ['serve', ...args, '--port', '0', '--token', token]);
  const url = await waitFor(() => /listening on (http:\/\/[^/\s]+)/.exec(p.out())?.[1], {
    timeoutMs: 30_000,
    what: () => `the node's address (so far: ${p.out()})`,
  });
  return { ...p, url, token };
}

/**
 * An `impartial worker` on `queue` with its own cache folder. A short lock: a killed worker's job
 * moves within about two seconds. One wasm thread: several share this machine's cores.
 */
export function startWorker(name: string, queue: string, store: string, cache: string): CliProcess {
  const args = ['worker', '--queue', queue, '--store', store, '--data', cache, '--name', name, '--lock-ms', '2000'];
  return startCli(name, args, { IMPARTIAL_WASM_THREADS: '1' });
}

/** Whether the process is still running. */
export const alive = (p: CliProcess) => p.child.exitCode === null && p.child.signalCode === null;
