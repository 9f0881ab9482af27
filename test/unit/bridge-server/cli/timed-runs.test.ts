// Tests of bridge-server/src/cli/timed-runs.ts: timed commands finding each other (registerTimedRun).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, it } from 'node:test';
import { registerTimedRun } from '@impartial/bridge-server';

const dir = mkdtempSync(path.join(tmpdir(), 'impartial-timed-runs-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Another process that registers as `command` in `dir`; `exit` makes it exit normally once registered. */
async function otherRun(command: string, exit = false): Promise<ChildProcess> {
  const script =
    `import { registerTimedRun } from '@impartial/bridge-server';` +
    `registerTimedRun(${JSON.stringify(command)}, ${JSON.stringify(dir)}); process.stdout.write('registered\\n');` +
    (exit ? '' : 'setInterval(() => {}, 1000);');
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  assert.equal(line.toString().trim(), 'registered');
  return child;
}

it('a timed run sees another one running, and forgets it once that process is gone', async () => {
  const mine = registerTimedRun('bench', dir);
  assert.deepEqual(mine.others(), [], 'alone at first');
  const other = await otherRun('eval');
  assert.deepEqual(mine.others(), [{ pid: other.pid, command: 'eval' }]);
  // Killed, it cannot remove its own file: the next look removes it.
  other.kill('SIGKILL');
  await once(other, 'exit');
  assert.ok(existsSync(path.join(dir, `${other.pid}.json`)), 'the killed run left its file');
  assert.deepEqual(mine.others(), []);
  assert.ok(!existsSync(path.join(dir, `${other.pid}.json`)), 'and the look removed it');
  mine.release();
  assert.deepEqual(readdirSync(dir), [], 'release removes its own file');
});

it('a timed run that exits normally unregisters itself', async () => {
  const child = await otherRun('train', true);
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
  assert.ok(!existsSync(path.join(dir, `${child.pid}.json`)));
});

it('a folder that cannot be written leaves the run unregistered, and never stops it', () => {
  const file = path.join(dir, 'not-a-folder');
  writeFileSync(file, '');
  const run = registerTimedRun('eval', path.join(file, 'runs'));
  assert.deepEqual(run.others(), []);
  run.release();
});
