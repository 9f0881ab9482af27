// Runs every compiled test file under test/dist with node's built-in test runner.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve('test/dist');
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) files.push(p);
  }
};
walk(root);
const filter = process.argv[2];
const selected = filter ? files.filter((f) => f.includes(filter)) : files;
if (selected.length === 0) {
  console.error(`no test files${filter ? ` matching "${filter}"` : ''} under ${root}`);
  process.exit(1);
}
// One wasm thread in tests: pthread workers would keep each test process alive after it is done.
const env = { ...process.env, IMPARTIAL_WASM_THREADS: process.env.IMPARTIAL_WASM_THREADS ?? '1' };
const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', '--test-timeout=600000', ...selected], {
  stdio: 'inherit',
  env,
});
process.exit(r.status ?? 1);
