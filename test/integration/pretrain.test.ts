// `impartial pretrain`: checkpoints while it trains, and --resume goes on from the last one after a kill.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { impartial, repo } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

/** A tiny net on a few small synthetic images: steps of a few milliseconds. */
const TINY = ['--channels', '1', '--images', '2', '--depth', '2', '--base', '4', '--batch', '1'];

describe('impartial pretrain', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('resumes from its checkpoint after being killed, and removes it once the model is saved', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'impartial-pretrain-'));
    dirs.push(dir);
    const out = path.join(dir, 'generic-c1');
    const args = ['pretrain', '--out', out, '--steps', '400', '--checkpoint-every', '5', ...TINY];
    const child = spawn(process.execPath, [path.join(repo, 'bridge-server', 'bin', 'impartial.js'), ...args], {
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const progress = path.join(`${out}.checkpoint`, 'progress.json');
    await waitFor(() => existsSync(progress), { timeoutMs: 120_000, what: 'the first checkpoint' });
    child.kill('SIGKILL');
    await exited;
    assert.ok(!existsSync(path.join(out, 'model.json')), 'killed before it saved the model');
    const at = (JSON.parse(await readFile(progress, 'utf8')) as { steps: number }).steps;
    assert.ok(at >= 5 && at < 400, `a checkpoint at step ${at}`);

    const r = await impartial([...args, '--resume'], { timeoutMs: 300_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /resuming at step \d+ of 400/);
    assert.match(r.stdout, /saved generic model .* \(400 steps/);
    const model = JSON.parse(await readFile(path.join(out, 'model.json'), 'utf8')) as {
      lineage: { steps: number };
      config: { inChannels: number };
    };
    assert.equal(model.lineage.steps, 400, 'the steps before the kill count');
    assert.equal(model.config.inChannels, 1);
    assert.ok(!existsSync(`${out}.checkpoint`), 'the checkpoint is gone');
  });

  it('says so when there is no checkpoint to resume from', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'impartial-pretrain-'));
    dirs.push(dir);
    const out = path.join(dir, 'm');
    const r = await impartial(['pretrain', '--out', out, '--steps', '3', '--resume', ...TINY], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /no checkpoint at .*: starting afresh/);
    assert.match(r.stdout, /\(3 steps/);
  });
});
