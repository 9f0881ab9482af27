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
    const late = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`impartial serve did not listen within 120 s; it printed: ${out.slice(-500)}`));
    }, 120_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/[^/\s]+)\//.exec(out);
      if (m) {
        clearTimeout(late);
        resolve({ child, url: m[1] });
      }
    });
    child.on('exit', (c) => {
      clearTimeout(late);
      reject(new Error(`serve exited ${c}`));
    });
  });
}
