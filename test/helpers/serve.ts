import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import type { Bridge } from '@impartial/bridge-server';
import { repo } from './cli.js';
import { timedOut } from './wait.js';

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  /** Url and token only: enough for TestClient. */
  bridge: Bridge;
}

/**
 * `impartial serve` as its own process (so that it can be killed with SIGKILL), resolved once it
 * prints the address it listens on; fails after `timeoutMs`, or when it exits first.
 */
export function serveProcess(data: string, token: string, timeoutMs = 30_000): Promise<ServeProcess> {
  return serveWith(['--data', data, '--port', '0', '--token', token], token, timeoutMs);
}

/** `impartial serve ARGS` as its own process, whose token is `token` (however the arguments give it). */
export function serveWith(args: string[], token: string, timeoutMs = 30_000): Promise<ServeProcess> {
  const bin = path.join(repo, 'bridge-server', 'bin', 'impartial.js');
  const child = spawn(process.execPath, [bin, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise<ServeProcess>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(timedOut({ timeoutMs, what: () => `impartial serve to listen; its stderr: ${stderr}` }));
    }, timeoutMs);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/[^/\s]+)\//.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, bridge: { url: m[1]!, token } as Bridge });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${stderr}`));
    });
  });
}

/** SIGKILL, resolved once the process has exited. */
export function killHard(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
