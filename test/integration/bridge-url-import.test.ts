import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ErrorBody, planesOf, syntheticCells, writeOmeZarrImage } from '@impartial/shared';
import { FileSystemStore } from '@impartial/shared/node';
import { projectWithImage, startTestBridge, type TestBridge } from '../helpers/bridge.js';
import { serveFolder } from '../helpers/static-server.js';

/*
 * URL imports may not reach the bridge's own network: loopback, private, link-local and
 * unique-local addresses are refused unless --allow-import-host names the host, on every
 * redirect hop too, with one message for every refusal; an import has a byte cap.
 */

const importUrl = (t: TestBridge, url: string) =>
  t.api('/api/projects/p1/images', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ url, name: 'remote' }),
  });

describe('URL imports reach only public hosts, or those --allow-import-host names', () => {
  let dir: string;
  let files: Awaited<ReturnType<typeof serveFolder>>;
  let port: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'impartial-url-'));
    const { image } = syntheticCells({ width: 96, height: 96, channels: 2, seed: 3 });
    const store = new FileSystemStore(path.join(dir, 'cells.ome.zarr'));
    await writeOmeZarrImage(store, { width: 96, height: 96, planes: planesOf(image), name: 'cells' });
    // /hop/... redirects to the same files under localhost: a name for loopback that is not allowed.
    files = await serveFolder(dir, (p) =>
      p.startsWith('/hop/') ? `${files.url.replace('127.0.0.1', 'localhost')}/${p.slice(5)}` : null,
    );
    port = new URL(files.url).port;
  });
  after(async () => {
    await files.close();
    await rm(dir, { recursive: true, force: true });
  });

  const REFUSED = /: refused; URL imports read only http\(s\) OME-Zarr on public hosts/;

  it('refuses loopback, private and link-local addresses and its own URL, all with the same message', async () => {
    const t = await startTestBridge();
    try {
      const own = await projectWithImage(t, 64);
      const urls = [
        `${files.url}/cells.ome.zarr`,
        `http://localhost:${port}/cells.ome.zarr`,
        'http://10.1.2.3/cells.ome.zarr',
        'http://169.254.169.254/latest/meta-data',
        'http://[::1]:9/x.zarr',
        'http://[fd00::1]/x.zarr',
        `${t.bridge.url}/t/${t.bridge.token}/zarr/images/${own.id}`,
      ];
      for (const url of urls) {
        const r = await importUrl(t, url);
        const body = (await r.json()) as ErrorBody;
        assert.equal(r.status, 403, `${url}: ${JSON.stringify(body)}`);
        assert.match(body.error.message, REFUSED, url);
        assert.equal(body.error.message.replace(url, 'URL'), `URL${body.error.message.slice(url.length)}`);
      }
      const images = ((await (await t.api('/api/projects/p1')).json()) as { images: unknown[] }).images;
      assert.equal(images.length, 1, 'nothing was imported');
    } finally {
      await t.stop();
    }
  });

  it('imports from an allowed host, and checks every redirect hop again', async () => {
    const t = await startTestBridge({ allowImportHosts: ['127.0.0.1'] });
    try {
      await projectWithImage(t, 64);
      let r = await importUrl(t, `${files.url}/cells.ome.zarr`);
      assert.equal(r.status, 201, await r.clone().text());
      const image = (await r.json()) as { width: number; channels: number };
      assert.deepEqual([image.width, image.channels], [96, 2]);
      // The same host redirects to localhost, which is not allowed: refused at that hop.
      r = await importUrl(t, `${files.url}/hop/cells.ome.zarr`);
      assert.equal(r.status, 403, await r.clone().text());
      assert.match(((await r.json()) as ErrorBody).error.message, REFUSED);
    } finally {
      await t.stop();
    }
  });

  it('refuses a remote OME-Zarr whose metadata declares an absurd shape, before reading pixels', async () => {
    const absurd = path.join(dir, 'absurd.ome.zarr');
    await cp(path.join(dir, 'cells.ome.zarr'), absurd, { recursive: true });
    const zarray = path.join(absurd, '0', '.zarray');
    const meta = JSON.parse(await readFile(zarray, 'utf8')) as { shape: number[] };
    await writeFile(zarray, JSON.stringify({ ...meta, shape: [2, 200_000, 200_000] }));
    const t = await startTestBridge({ allowImportHosts: ['127.0.0.1'] });
    try {
      await projectWithImage(t, 64);
      const r = await importUrl(t, `${files.url}/absurd.ome.zarr`);
      const body = (await r.json()) as ErrorBody;
      assert.equal(r.status, 413, JSON.stringify(body));
      assert.match(body.error.message, /200000 x 200000 x 2 channels is 80,000 megapixels, over the limit of 4,000/);
    } finally {
      await t.stop();
    }
  });

  it('stops an import past its byte cap, naming the cap', async () => {
    const t = await startTestBridge({ allowImportHosts: ['127.0.0.1'], maxImportBytes: 2000 });
    try {
      await projectWithImage(t, 64);
      const r = await importUrl(t, `${files.url}/cells.ome.zarr`);
      const body = (await r.json()) as ErrorBody;
      assert.equal(r.status, 413, JSON.stringify(body));
      assert.match(body.error.message, /read more than its byte cap/);
    } finally {
      await t.stop();
    }
  });
});
