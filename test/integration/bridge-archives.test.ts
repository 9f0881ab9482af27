import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Zip, ZipDeflate, zipSync } from 'fflate';
import { projectWithImage, startTestBridge, type TestBridge } from '../helpers/bridge.js';
import { dataStart, declaring } from '../helpers/zip.js';

/*
 * Zip bombs sent where the bridge reads zips (MONAI's model upload and ROI-set labels): refused
 * with 413 naming the entry and the cap, without inflating them whole, whether their directory
 * tells their size or lies about it; nothing stored, no temp file left, the bridge still answers.
 */

/**
 * A zip of `name` holding `megabytes` MB of zeros (a few hundred KB once deflated), written a MB
 * at a time: the test runs in the bridge's process, whose memory it measures.
 */
function bombOf(name: string, megabytes: number): Uint8Array {
  const parts: Uint8Array[] = [];
  const zip = new Zip((error, chunk) => {
    assert.ifError(error);
    parts.push(chunk);
  });
  const entry = new ZipDeflate(name, { level: 9 });
  zip.add(entry);
  const zeros = new Uint8Array(1024 * 1024);
  for (let i = 0; i < megabytes; i++) entry.push(zeros, i === megabytes - 1);
  zip.end();
  return Buffer.concat(parts);
}

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
  /**
   * How far the process's resident memory rose above `from` (an rssMb() of before) at its peak:
   * at least the real rise (more where an earlier peak was higher), even one a GC since undid.
   */
  const peakSince = (from: number) => process.resourceUsage().maxRSS / 1024 - from;
  const upload = (p: string, field: string, zip: Uint8Array, name: string) => {
    const form = new FormData();
    form.append(field, new Blob([Buffer.from(zip)]), name);
    form.append('params', '{}');
    return t.api(p, { method: 'PUT', body: form });
  };
  const modelVersion = async () =>
    ((await (await t.api('/model/info/impartial_2')).json()) as { version?: string }).version;
  const labelSeq = async (image: string) =>
    ((await (await t.api(`/api/images/${image}/strokes`)).json()) as { seq: number }).seq;

  // Peaks measured: ~10 MB for a bomb refused by its declared size; one that lies about its size
  // is stopped where its bytes pass what it declares (here 1000), one push of inflation later.
  it('a model upload whose weights.bin inflates past its cap answers 413 naming the entry', async () => {
    const zip = bombOf('weights.bin', 400);
    const version = await modelVersion();
    const before = rssMb();
    const r = await upload('/model/impartial_2', 'file', zip, 'bomb.zip');
    const body = (await r.json()) as { error: { message: string } };
    assert.equal(r.status, 413, JSON.stringify(body));
    assert.match(body.error.message, /weights\.bin is 419430400 bytes; at most 268435456 an entry/);
    assert.equal(await modelVersion(), version, 'the current model did not change');
    assert.deepEqual(await tempFiles(), []);
    assert.ok(peakSince(before) < 64, `the bridge grew by ${peakSince(before).toFixed(0)} MB`);
    assert.equal((await t.api('/api/info')).status, 200);
  });

  it('an ROI set with a huge entry answers 413 and adds no stroke', async () => {
    const image = await projectWithImage(t, 64, 4, 'monai');
    const [before, zip] = [await labelSeq(image.id), bombOf('cell.roi', 200)];
    const r = await upload(`/datastore/label?image=${image.id}&tag=final`, 'label', zip, 'set.zip');
    const body = (await r.json()) as { error: { message: string } };
    assert.equal(r.status, 413, JSON.stringify(body));
    assert.match(body.error.message, /cell\.roi/);
    assert.equal(await labelSeq(image.id), before, 'no stroke was added');
    assert.deepEqual(await tempFiles(), []);
    assert.equal((await t.api('/api/info')).status, 200);
  });

  it('an ROI set whose entry lies about its size answers 400 once its real bytes pass the declared size', async () => {
    const image = await projectWithImage(t, 64, 5, 'monai');
    const zip = declaring(bombOf('cell.roi', 200), 'cell.roi', 1000);
    const [seq, before] = [await labelSeq(image.id), rssMb()];
    const r = await upload(`/datastore/label?image=${image.id}&tag=final`, 'label', zip, 'set.zip');
    const body = (await r.json()) as { error: { message: string } };
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match(body.error.message, /cell\.roi inflates past the 1000 bytes the directory declares/);
    assert.equal(await labelSeq(image.id), seq, 'no stroke was added');
    assert.deepEqual(await tempFiles(), []);
    assert.ok(peakSince(before) < 64, `the bridge grew by ${peakSince(before).toFixed(0)} MB`);
    assert.equal((await t.api('/api/info')).status, 200);
  });

  it('a model upload whose weights.bin lies about its size answers 400 at its declared size', async () => {
    const zip = declaring(bombOf('weights.bin', 400), 'weights.bin', 1000);
    const version = await modelVersion();
    const before = rssMb();
    const r = await upload('/model/impartial_2', 'file', zip, 'liar.zip');
    const body = (await r.json()) as { error: { message: string } };
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match(body.error.message, /weights\.bin inflates past the 1000 bytes the directory declares/);
    assert.equal(await modelVersion(), version, 'the current model did not change');
    assert.deepEqual(await tempFiles(), []);
    // one push past its declared size (16 KiB of deflate make ~17 MB), not the 400 MB it holds
    assert.ok(peakSince(before) < 64, `the bridge grew by ${peakSince(before).toFixed(0)} MB`);
    assert.equal((await t.api('/api/info')).status, 200);
  });

  it('a model upload of two model.json in two folders, or a damaged weights.bin, answers 400 naming it', async () => {
    const version = await modelVersion();
    const json = new TextEncoder().encode('{}');
    const twice = zipSync({ 'a/model.json': json, 'b/model.json': json, 'weights.bin': new Uint8Array(8) });
    let r = await upload('/model/impartial_2', 'file', twice, 'twice.zip');
    let body = (await r.json()) as { error: { message: string } };
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match(body.error.message, /^twice\.zip holds model\.json twice \(a\/model\.json and b\/model\.json\)/);
    const damaged = zipSync({ 'model.json': json, 'weights.bin': [new Uint8Array(64), { level: 0 }] });
    damaged[dataStart(damaged, 'weights.bin') + 10]! ^= 1;
    r = await upload('/model/impartial_2', 'file', damaged, 'damaged.zip');
    body = (await r.json()) as { error: { message: string } };
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match(body.error.message, /^damaged\.zip is not a readable zip file \(weights\.bin is damaged: its CRC-32/);
    assert.equal(await modelVersion(), version, 'the current model did not change');
    assert.deepEqual(await tempFiles(), []);
  });
});
