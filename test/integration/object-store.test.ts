// Images, models and predictions in S3-compatible object storage (s3rver in this process on
// loopback): versioned folders with the pointer written last, a bridge whose data folder is only a
// cache of them, the viewer's reads streamed or redirected to presigned URLs, and the errors a
// wrong --store gives.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SYSTEM } from '@impartial/bridge-server';
import { DataFiles, ObjectStore, parseObjectStoreUrl, VersionedObjects } from '@impartial/bridge-server/store';
import FetchStore from '@zarrita/storage/fetch';
import * as zarr from 'zarrita';
import {
  drawCellAndBackground,
  projectWithImage,
  startTestBridge,
  type TestBridge,
  TestClient,
  TINY_TRAINING,
} from '../helpers/bridge.js';
import { S3_BUCKET, type S3Server, startS3 } from '../helpers/s3.js';

async function keys(objects: ObjectStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const k of objects.list(prefix)) out.push(k);
  return out.sort();
}

describe('object storage (s3rver)', { timeout: 240_000 }, () => {
  let s3: S3Server;
  let scratch: string;
  before(async () => {
    s3 = await startS3();
    scratch = await mkdtemp(path.join(tmpdir(), 'impartial-objects-'));
  });
  after(async () => {
    await s3?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('publishes a folder as a version that readers see whole, and drops the version before', async () => {
    const objects = new ObjectStore(parseObjectStoreUrl(s3.storeUrl('unit')));
    const versioned = new VersionedObjects(objects);
    const dir = path.join(scratch, 'm1');
    await mkdir(path.join(dir, 'sub'), { recursive: true });
    await writeFile(path.join(dir, 'model.json'), '{"a":1}');
    await writeFile(path.join(dir, 'sub', 'w.bin'), Buffer.alloc(70_000, 7));
    assert.equal(await versioned.current('models/m1'), null);
    const v1 = await versioned.publish(dir, 'models/m1');
    assert.equal(await versioned.current('models/m1', true), v1);
    assert.deepEqual(await keys(objects, 'models/m1/'), [
      'models/m1/.current.json',
      `models/m1/.versions/${v1}/model.json`,
      `models/m1/.versions/${v1}/sub/w.bin`,
    ]);
    const copy = path.join(scratch, 'copy');
    assert.equal(await versioned.fetch('models/m1', copy), true);
    assert.deepEqual(await readFile(path.join(copy, 'sub', 'w.bin')), Buffer.alloc(70_000, 7));

    await writeFile(path.join(dir, 'model.json'), '{"a":2}');
    const v2 = await versioned.publish(dir, 'models/m1');
    assert.notEqual(v2, v1);
    assert.equal((await keys(objects, 'models/m1/')).filter((k) => k.includes(v1)).length, 0, 'v1 dropped');
    assert.equal(await versioned.fetch('models/m1', copy), true);
    assert.equal(await readFile(path.join(copy, 'model.json'), 'utf8'), '{"a":2}');
    const body = await versioned.open('models/m1', 'model.json');
    assert.equal(body?.length, 7);
    body?.body.destroy();

    await versioned.remove('models/m1');
    assert.deepEqual(await keys(objects, 'models/m1/'), []);
    assert.equal(await versioned.fetch('models/m1', path.join(scratch, 'gone')), false);
    objects.close();
  });

  it('shows a zarr being written from its pointer on, chunk by chunk as flushed', async () => {
    const files = await DataFiles.objectStore(scratch, s3.storeUrl('unit'));
    const dir = path.join(scratch, 'predictions', 'p.ome.zarr');
    const writer = files.publisher(dir);
    await writer.set('/.zgroup', new TextEncoder().encode('{"zarr_format":2}'));
    assert.equal(await (await files.zarr(dir)).get('/.zgroup'), undefined, 'nothing before the pointer');
    await writer.point();
    await writer.set('/0/0.0', new Uint8Array([1, 2, 3]));
    assert.equal(await (await files.zarr(dir)).get('/0/0.0'), undefined, 'a chunk is there once flushed');
    await writer.flush();
    assert.deepEqual(await (await files.zarr(dir)).get('/0/0.0'), new Uint8Array([1, 2, 3]));
    assert.deepEqual(await readFile(path.join(dir, '0', '0.0')), Buffer.from([1, 2, 3]), 'and written here');
    files.close();
  });

  it('refuses a wrong --store with a message that names what is wrong', async () => {
    const bad = [
      ['http://x/y', /not supported/],
      ['s3:///prefix', /names no bucket/],
      ['s3://key:secret@bucket/p', /credentials do not go in the URL/],
      [`s3://b/p?endpoint=ftp://x`, /not an http\(s\) URL/],
      [`s3://b/p?presign=0`, /presign must be/],
    ] as const;
    for (const [url, message] of bad) assert.throws(() => parseObjectStoreUrl(url), message, url);
    const missing = s3.storeUrl('p').replace(S3_BUCKET, 'no-such-bucket');
    await assert.rejects(DataFiles.objectStore(scratch, missing), /no-such-bucket.*no such bucket/);
  });

  describe('a bridge on object storage', () => {
    let t: TestBridge;
    let objects: ObjectStore;
    before(async () => {
      t = await startTestBridge({ objects: s3.storeUrl('bridge') });
      objects = new ObjectStore(parseObjectStoreUrl(s3.storeUrl('bridge')));
    });
    after(async () => {
      objects?.close();
      await t?.stop();
    });

    it('keeps images, models, predictions and label files there and serves them from there', async () => {
      const image = (await projectWithImage(t, 128, 5, 'o')).id;
      const imageKeys = await keys(objects, `images/${image}.ome.zarr/`);
      assert.ok(imageKeys.includes(`images/${image}.ome.zarr/.current.json`), 'the image is published');
      // What the viewer reads comes from the object store: a local file changed here does not show.
      const local = path.join(t.bridge.dataDir, 'images', `${image}.ome.zarr`, '.zattrs');
      const attrs = await readFile(local, 'utf8');
      await writeFile(local, '{"tampered":true}');
      const served = await t.api(`/zarr/images/${image}/.zattrs`);
      assert.equal(served.status, 200);
      assert.equal(served.headers.get('content-type'), 'application/json');
      assert.equal(await served.text(), attrs);
      assert.equal((await t.api(`/zarr/images/${image}/no/such/chunk`)).status, 404);
      assert.equal((await t.api(`/zarr/images/${image}/..%2F..%2Fimpartial.sqlite`)).status, 403);

      const c = await TestClient.join(t.bridge, image, 'objects');
      await drawCellAndBackground(c);
      c.send({ type: 'train-start', ref: 't', options: TINY_TRAINING });
      const model = (await c.next((m) => m.type === 'model', 120_000, 'model')).model;
      assert.ok((await keys(objects, `models/${model.id}/`)).length >= 3, 'the model is published');
      c.send({ type: 'infer', ref: 'i', request: { model: model.id, tile: 64, passes: 1 } });
      const done = await c.next(
        (m) => m.type === 'tiles' && m.prediction.model === model.id && m.prediction.status === 'complete',
        120_000,
        'tiles',
      );
      const store = new FetchStore(`${t.bridge.url}${done.prediction.url}`, {
        overrides: { headers: { Authorization: `Bearer ${t.bridge.token}` } },
      });
      const level0 = await zarr.open.v2(zarr.root(store).resolve('0'), { kind: 'array' });
      const p = (await zarr.get(level0, [0, null, null])).data as Float32Array;
      assert.equal(p.length, 128 * 128);
      assert.ok(p.some((v) => v > 0) && p.every((v) => v >= 0 && v <= 1 + 1e-6), 'probabilities');
      const predictionKeys = await keys(objects, `predictions/${image}/${model.id}.ome.zarr/.versions/`);
      assert.equal(new Set(predictionKeys.map((k) => k.split('/')[4])).size, 1, 'one version of the prediction');

      // This machine's copy of the model is a cache: gone, it is fetched again when asked for.
      await rm(path.join(t.bridge.dataDir, 'models', model.id), { recursive: true });
      const weights = await t.api(`/api/models/${model.id}/files/weights.bin`);
      assert.equal(weights.status, 200);
      assert.ok((await weights.arrayBuffer()).byteLength > 0);
      assert.ok(existsSync(path.join(t.bridge.dataDir, 'models', model.id, 'model.json')));

      // Label files (MONAI Label's datastore) are objects too: every node reads the same.
      const labels = t.bridge.services.labels;
      const bytes = (n: number) => Uint8Array.from({ length: 300 }, (_, k) => (k * n) % 251);
      await labels.put(SYSTEM, image, 'seg', '.tif', bytes(3), {});
      await labels.put(SYSTEM, image, 'other', '.tif', bytes(5), {});
      assert.deepEqual(await keys(objects, `labels/${image}/`), [
        `labels/${image}/other.tif`,
        `labels/${image}/seg.tif`,
      ]);
      assert.ok(!existsSync(path.join(t.bridge.dataDir, 'labels', image, 'seg.tif')), 'not in the data folder');
      assert.deepEqual((await labels.read(SYSTEM, image, 'seg')).bytes, bytes(3));
      await labels.delete(SYSTEM, image, 'seg');
      assert.deepEqual(await keys(objects, `labels/${image}/`), [`labels/${image}/other.tif`]);

      // Removing the image removes its objects, its predictions' and its labels'.
      await t.bridge.services.images.delete(SYSTEM, image);
      assert.deepEqual(await keys(objects, `images/${image}.ome.zarr/`), []);
      assert.deepEqual(await keys(objects, `predictions/${image}/`), []);
      assert.deepEqual(await keys(objects, `labels/${image}/`), []);
      c.close();
    });
  });

  it('sends viewers to presigned URLs when the store presigns', async () => {
    const t = await startTestBridge({ objects: s3.storeUrl('presigned', 'presign=60') });
    try {
      const image = (await projectWithImage(t, 64, 6, 'ps')).id;
      const direct = await t.api(`/zarr/images/${image}/.zattrs`, { redirect: 'manual' });
      assert.equal(direct.status, 307);
      const location = direct.headers.get('location')!;
      assert.ok(location.startsWith(s3.endpoint), location);
      assert.match(location, /X-Amz-Signature=/);
      const followed = await t.api(`/zarr/images/${image}/.zattrs`);
      assert.equal(followed.status, 200);
      assert.ok('multiscales' in ((await followed.json()) as object));
      // Only who may read the image gets a URL.
      assert.equal((await fetch(`${t.bridge.url}/zarr/images/${image}/.zattrs`, { redirect: 'manual' })).status, 401);
    } finally {
      await t.stop();
    }
  });

  it('answers 502 naming the object storage when it is gone, and keeps running', async () => {
    const own = await startS3();
    const t = await startTestBridge({ objects: own.storeUrl('gone') });
    try {
      const image = (await projectWithImage(t, 64, 7, 'gone')).id;
      assert.equal((await t.api(`/zarr/images/${image}/.zattrs`)).status, 200);
      await own.stop();
      const r = await t.api(`/zarr/images/${image}/0/.zarray`);
      assert.equal(r.status, 502);
      assert.match(await r.text(), /object storage s3:\/\/impartial-test\/gone/);
      assert.equal((await t.api(`/api/images/${image}`)).status, 200, 'the index still answers');
    } finally {
      await t.stop();
    }
  });
});
