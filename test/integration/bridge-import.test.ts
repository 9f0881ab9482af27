import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { memorySource, SYSTEM } from '@impartial/bridge-server';
import { encodePng, type ImageRecord, readTiff, syntheticCells } from '@impartial/shared';
import type { ImportRecord } from '@impartial/shared/protocol';
import { startTestBridge, syntheticTiff, type TestBridge } from '../helpers/bridge.js';
import { writeSyntheticFixture } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/wait.js';

describe('bridge image import', () => {
  let t: TestBridge;
  const post = (body: BodyInit, type: string, name = 'x') =>
    t.api(`/api/projects/imp/images?name=${name}`, { method: 'POST', headers: { 'Content-Type': type }, body });
  before(async () => {
    // Loopback allowed for URL imports: the by-URL test reads the bridge's own OME-Zarr back.
    t = await startTestBridge({ allowImportHosts: ['127.0.0.1'] });
    await t.api('/api/projects', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'imports', id: 'imp' }),
    });
  });
  after(async () => {
    await t.stop();
  });

  /** Level 0 back over HTTP as a TIFF, to compare pixel values with what went in. */
  const levelZero = async (id: string) =>
    readTiff(await (await t.api(`/api/images/${id}/image.tif?level=0`)).arrayBuffer());

  it('takes a TIFF upload and keeps channels, size and pixel values', async () => {
    const { bytes } = syntheticTiff(300, 9);
    const r = await post(Buffer.from(bytes), 'image/tiff', 'tiff');
    assert.equal(r.status, 201);
    const img = (await r.json()) as ImageRecord;
    assert.deepEqual([img.width, img.height, img.channels, img.dtype, img.levels], [300, 300, 2, 'uint16', 2]);
    const original = await readTiff(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    );
    const back = await levelZero(img.id);
    assert.deepEqual(back.data, original.data);
  });

  it('lists an import while it runs (GET /api/imports: rows done of rows), then as done', async () => {
    const { image } = syntheticCells({ width: 300, height: 300, channels: 2, seed: 4 });
    const source = memorySource(image);
    // The source answers only when let go, so the import is caught half way.
    let letGo!: () => void;
    const gate = new Promise<void>((r) => {
      letGo = r;
    });
    let reads = 0;
    const gated = {
      ...source,
      readRows: async (y: number, rows: number) => {
        if (reads++ > 0) await gate;
        return source.readRows(y, rows);
      },
    };
    const done = t.bridge.services.images.importSource(SYSTEM, 'imp', gated, 'gated');
    const listed = async () =>
      ((await (await t.api('/api/imports?project=imp')).json()) as ImportRecord[]).find((i) => i.name === 'gated');
    // The first rows are read, the next read waits at the gate: the import is listed part done.
    const partDone = async () => {
      const listing = await listed();
      return listing?.rowsDone ? listing : null;
    };
    const running = await waitFor(partDone, { timeoutMs: 10_000, what: 'the gated import listed with rows done' });
    assert.equal(running.status, 'running');
    assert.deepEqual([running.width, running.height, running.channels, running.rows], [300, 300, 2, 300]);
    assert.ok(running.rowsDone > 0 && running.rowsDone < 300, `part done: ${running.rowsDone} of 300 rows`);
    letGo();
    const img = await done;
    const finished = (await listed())!;
    assert.deepEqual([finished.id, finished.status, finished.rowsDone, finished.error], [img.id, 'done', 300, null]);
    assert.equal(
      ((await (await t.api('/api/imports?project=other')).json()) as ImportRecord[]).length,
      0,
      'filtered by project',
    );
  });

  it('takes a PNG whatever content type the client declares', async () => {
    const rgb = new Uint8Array(40 * 30 * 3).map((_, i) => (i * 7) % 256);
    const r = await post(Buffer.from(encodePng(40, 30, rgb)), 'image/tiff', 'png');
    assert.equal(r.status, 201);
    const img = (await r.json()) as ImageRecord;
    assert.deepEqual([img.width, img.height, img.channels, img.channelNames], [40, 30, 3, ['red', 'green', 'blue']]);
    const back = await levelZero(img.id);
    assert.equal(back.data[30 * 40 + 5], rgb[5 * 3 + 1], 'green channel, pixel 5');
  });

  it('imports an OME-Zarr folder by path (inside the import roots) and by URL', async () => {
    const { sample } = await writeSyntheticFixture(path.join(t.dir, 'in'), 'tissue', {
      size: 200,
      channels: 3,
      seed: 4,
    });
    const r = await t.api('/api/projects/imp/images', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ path: path.join(t.dir, 'in', 'tissue.ome.zarr') }),
    });
    assert.equal(r.status, 201, await r.clone().text());
    const byPath = (await r.json()) as ImageRecord;
    assert.deepEqual([byPath.name, byPath.width, byPath.channels, byPath.dtype], ['tissue', 200, 3, 'float32']);
    const back = await levelZero(byPath.id);
    assert.deepEqual(back.data, sample.image.data);
    // By URL: the bridge's own copy, with the token in the path as ImageJ would send it.
    const url = `${t.bridge.url}/t/${t.bridge.token}/zarr/images/${byPath.id}`;
    const u = await t.api('/api/projects/imp/images', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ url, name: 'copy' }),
    });
    assert.equal(u.status, 201, await u.clone().text());
    const byUrl = (await u.json()) as ImageRecord;
    assert.deepEqual((await levelZero(byUrl.id)).data, sample.image.data);
    const missing = await t.api('/api/projects/imp/images', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ path: path.join(t.dir, 'in', 'nope.ome.zarr') }),
    });
    assert.equal(missing.status, 404);
    const both = await t.api('/api/projects/imp/images', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ path: 'a', url: 'http://b/' }),
    });
    assert.equal(both.status, 400);
    assert.match(await both.text(), /exactly one of path or url/);
  });
});
