import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ErrorBody, planesOf, syntheticCells, writeOmeZarrImage } from '@impartial/shared';
import { FileSystemStore } from '@impartial/shared/node';
import { projectWithImage, startTestBridge, type TestBridge } from '../helpers/bridge.js';
import { serveFolder } from '../helpers/static-server.js';
import { waitFor } from '../helpers/wait.js';

/*
 * URL imports may not reach the bridge's own network: loopback, private, link-local and
 * unique-local addresses are refused unless --allow-import-host names the host, on every
 * redirect hop too, with one message for every refusal; an import has a byte cap. A server that
 * does not answer in time, breaks the connection or fails is answered 502 naming the URL, and an
 * import's connections close when it ends.
 */

const importUrl = (t: TestBridge, url: string) =>
  t.api('/api/projects/p1/images', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ url, name: 'remote' }),
  });

/** How a file server misbehaves on the files it is told to: as a data portal that fails. */
type Fault = 'reset' | 'silent' | 'error';

/**
 * Serves `dir` as serveFolder does, keeping idle connections open for a minute (so that a fetch that
 * is not closed would hold them), and fails on the files `faulty` picks: 'reset' sends half the file
 * and breaks the connection, 'silent' never answers, 'error' answers 500 with a body.
 */
async function serveFaulty(dir: string, fault: Fault, faulty: (pathname: string) => boolean) {
  const server = createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    readFile(path.join(dir, pathname)).then(
      (b) => {
        if (!faulty(pathname)) return res.writeHead(200).end(b);
        if (fault === 'error') return res.writeHead(500).end('x'.repeat(100_000));
        if (fault === 'reset') {
          res.writeHead(200, { 'Content-Length': b.length });
          res.write(b.subarray(0, Math.max(1, b.length >> 1)), () => res.socket?.destroy());
        }
      },
      () => res.writeHead(404).end(),
    );
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const connections = () => new Promise<number>((r, j) => server.getConnections((e, n) => (e ? j(e) : r(n))));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A chunk of an NGFF 0.4 (Zarr v2) image: a file that is not metadata. */
const isChunk = (pathname: string) => !/(^|\/)(\.z\w+|zarr\.json)$/.test(pathname);

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
        `http://[::ffff:127.0.0.1]:${port}/cells.ome.zarr`,
        `http://[64:ff9b::7f00:1]:${port}/cells.ome.zarr`,
        'http://192.0.2.1/x.zarr',
        'http://[2001:db8::1]/x.zarr',
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

  it('closes its connections when the import ends', async () => {
    const server = await serveFaulty(dir, 'error', () => false); // fails on no file
    const t = await startTestBridge({ allowImportHosts: ['127.0.0.1'] });
    try {
      await projectWithImage(t, 64);
      const r = await importUrl(t, `${server.url}/cells.ome.zarr`);
      assert.equal(r.status, 201, await r.text());
      await waitFor(async () => (await server.connections()) === 0, {
        timeoutMs: 10_000,
        what: 'the import to close its connections to the file server',
      });
    } finally {
      await t.stop();
      await server.close();
    }
  });

  const failures: Array<{ fault: Fault; on: string; faulty: (p: string) => boolean; says: RegExp }> = [
    { fault: 'reset', on: 'a chunk', faulty: isChunk, says: /: the connection broke while reading 0\/[\d/.]+ \(/ },
    { fault: 'silent', on: 'a chunk', faulty: isChunk, says: /: no answer within 1 s \(reading 0\/[\d/.]+\)/ },
    {
      fault: 'silent',
      on: 'the array metadata',
      faulty: (p) => p.endsWith('/0/.zarray'),
      says: /: no answer within 1 s \(reading 0\/\.zarray\)/,
    },
    { fault: 'error', on: 'a chunk', faulty: isChunk, says: /: answered 500 Internal Server Error to 0\/[\d/.]+$/ },
  ];
  for (const { fault, on, faulty, says } of failures) {
    it(`answers 502 naming the URL when the server is ${fault} on ${on}, and stores nothing`, async () => {
      const server = await serveFaulty(dir, fault, faulty);
      const t = await startTestBridge({ allowImportHosts: ['127.0.0.1'], importRequestTimeoutMs: 1000 });
      try {
        await projectWithImage(t, 64);
        const url = `${server.url}/cells.ome.zarr`;
        const r = await importUrl(t, url);
        const body = (await r.json()) as ErrorBody;
        assert.equal(r.status, 502, JSON.stringify(body));
        assert.equal(body.error.code, 'unreachable');
        assert.ok(body.error.message.startsWith(`${url}: `), body.error.message);
        assert.match(body.error.message, says);
        const images = ((await (await t.api('/api/projects/p1')).json()) as { images: unknown[] }).images;
        assert.equal(images.length, 1, 'nothing was imported');
        await waitFor(async () => (await readdir(path.join(t.bridge.dataDir, 'tmp'))).length === 0, {
          timeoutMs: 10_000,
          what: 'the failed import to remove its temporary files',
        });
        await waitFor(async () => (await server.connections()) === 0, {
          timeoutMs: 10_000,
          what: 'the failed import to close its connections to the file server',
        });
        assert.equal((await t.api('/api/info')).status, 200, 'the bridge still answers');
      } finally {
        await t.stop();
        await server.close();
      }
    });
  }
});
