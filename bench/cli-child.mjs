// An `impartial` command as a child process, its output (stdout and stderr) collected in `out`.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bridge-server', 'bin', 'impartial.js');

export function cliChild(args, env = {}) {
  const c = spawn(process.execPath, [bin, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  c.out = '';
  c.stdout.on('data', (d) => {
    c.out += d;
  });
  c.stderr.on('data', (d) => {
    c.out += d;
  });
  return c;
}
