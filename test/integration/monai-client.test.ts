import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { labelOutlines, polygonsToRois, readRoiZip, readTiff, writeRoiZip } from '@impartial/shared';
import { startTestBridge, syntheticTiff, type TestBridge } from '../helpers/bridge.js';
import { repoRoot } from '../helpers/paths.js';

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const SCRIPT = path.join(repoRoot, 'test', 'integration', 'monai-client', 'client_calls.py');

interface ClientRun {
  info: string[];
  upload_image: { image: string };
  save_label: { image: string; tag: string };
  download_label: number;
  train_start: string;
  train_status: string;
  infer: { file: string; params: { cells: number; width: number; height: number; model: string } };
  next_sample: Record<string, unknown>;
}

describe("MONAI Label's Python client's calls: upload, label, train, infer with a label file, next sample", () => {
  let t: TestBridge;
  let work: string;
  let run: ClientRun;
  let outlined: number;
  before(async () => {
    // MONAI Label's client sends no credentials: the bridge without a token, on loopback.
    t = await startTestBridge({ token: null });
    work = await mkdtemp(path.join(tmpdir(), 'impartial-monai-client-'));
    const { bytes, labels } = syntheticTiff(128, 21);
    const some = new Map([...labelOutlines(labels)].filter(([k]) => k % 3 === 0));
    outlined = some.size;
    await writeFile(path.join(work, 'cells.tif'), bytes);
    await writeFile(path.join(work, 'cells.zip'), writeRoiZip(polygonsToRois(some)));
    const args = [SCRIPT, t.bridge.url, work, path.join(work, 'cells.tif'), path.join(work, 'cells.zip')];
    const { stdout } = await promisify(execFile)(PYTHON, args, { cwd: work, timeout: 600_000 });
    run = JSON.parse(stdout.trim().split('\n').at(-1)!) as ClientRun;
  });
  after(async () => {
    await t.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('info, upload_image and save_label succeed; download_label gives the ROI set back', async () => {
    assert.ok(run.info.includes('impartial_2'), run.info.join(', '));
    assert.deepEqual(run.upload_image, { image: 'cells' });
    assert.deepEqual(run.save_label, { image: 'cells', label: 'cells', tag: 'final' });
    const back = readRoiZip(new Uint8Array(await readFile(path.join(work, 'downloaded.zip'))));
    assert.equal(back.length, outlined, 'every outline uploaded comes back');
  });

  it('train_start and train_status: the training ran to DONE', () => {
    assert.ok(['RUNNING', 'SUBMITTED'].includes(run.train_start), run.train_start);
    assert.equal(run.train_status, 'DONE');
  });

  it('infer answers as MONAI Label does: params, and the instance labels as a TIFF file the client saves', async () => {
    assert.equal(run.infer.file, 'cells.tif');
    const labels = await readTiff((await readFile(path.join(work, run.infer.file))).buffer as ArrayBuffer);
    assert.deepEqual([labels.width, labels.height, labels.channels], [128, 128, 1]);
    const distinct = new Set(labels.data);
    distinct.delete(0);
    assert.equal(distinct.size, run.infer.params.cells, 'the file holds as many cells as the params say');
    assert.deepEqual([run.infer.params.width, run.infer.params.height], [128, 128]);
    assert.match(run.infer.params.model, /^m[0-9a-z]+$/);
  });

  it('next_sample picks the image without a label', () => {
    assert.equal(run.next_sample.id, 'unlabelled');
    assert.equal(run.next_sample.path, '/datastore/image?image=unlabelled');
  });
});
