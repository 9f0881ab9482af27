import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zipSync } from 'fflate';
import { projectWithImage, startTestBridge, type TestBridge } from '../helpers/bridge.js';

/*
 * Zip bombs sent where the bridge reads zips (MONAI's model upload and ROI-set labels): refused
 * with 413 naming the entry and the cap, without inflating them whole; nothing stored, no temp
 * file left, the bridge still answers.
 */

/** A zip of `name` holding `megabytes` MB of zeros (a few hundred KB once deflated). */
const bombOf = (name: string, megabytes: number) =>
  zipSync({ [name]: new Uint8Array(megabytes * 1024 * 1024) }, { level: 9 });

describe('zip bombs: refused without being inflated', () => {
  let t: TestBridge;
  before(async () => {
    t = await startTestBridge();
  });
  after(async () => {
    await t.stop();
  });

  const tempFiles = () => readdir(path.join(t.bridge.dataDir, 'tmp'));
  const rssMb = () => process.memoryUsage().rss / 1024 ** 2;
  const upload = (p: string, field: string, zip: Uint8Array, name: string) => {
    const form = new FormData();
    form.append(field, new Blob([Buffer.from(zip)]), name);
    form.append('params', '{}');
    return t.api(p, { method: 'PUT', body: form });
  };

  it('a model upload whose weights.bin inflates past its cap answers 413 naming the entry', async () => {
    const zip = bombOf('weights.bin', 400);
    const before = rssMb();
    const models = async () =>
      ((await (await t.api('/model/info/impartial_2')).json()) as { version?: string }).version;
    const version = await models();
    const r = await upload('/model/impartial_2', 'file', zip, 'bomb.zip');
    const body = (await r.json()) as { error: { message: string } };
    assert.equal(r.status, 413, JSON.stringify(body));
    assert.match(body.error.message, /weights\.bin/);
    assert.equal(await models(), version, 'the current model did not change');
    assert.deepEqual(await tempFiles(), []);
    assert.ok(rssMb() - before < 400, `the bridge grew by ${(rssMb() - before).toFixed(0)} MB`);
    assert.equal((await t.api('/api/info')).status, 200);
  });

  it('an ROI set with a huge entry answers 413 and adds no stroke', async () => {
    const image = await projectWithImage(t, 64, 4, 'monai');
    const seq = async () => ((await (await t.api(`/api/images/${image.id}/strokes`)).json()) as { seq: number }).seq;
    const [before, zip] = [await seq(), bombOf('cell.roi', 200)];
    const r = await upload(`/datastore/label?image=${image.id}&tag=final`, 'label', zip, 'set.zip');
    const body = (await r.json()) as { error: { message: string } };
    assert.equal(r.status, 413, JSON.stringify(body));
    assert.match(body.error.message, /cell\.roi/);
    assert.equal(await seq(), before, 'no stroke was added');
    assert.deepEqual(await tempFiles(), []);
    assert.equal((await t.api('/api/info')).status, 200);
  });
});
