// `impartial serve` as a child process for the benches: resolves with the process and its URL once it listens.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'bridge-server', 'bin', 'impartial.js');

export function serve(data, token, extra = []) {
  const args = [cli, 'serve', '--data', data, '--port', '0', '--token', token, ...extra];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/[^/\s]+)\//.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.on('exit', (c) => reject(new Error(`serve exited ${c}`)));
  });
}
