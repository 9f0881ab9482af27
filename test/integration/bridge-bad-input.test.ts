import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ErrorBody } from '@impartial/shared';
import { startTestBridge, syntheticTiff, type TestBridge } from '../helpers/bridge.js';
import { onePage, TAG, withNextPage, withTag } from '../helpers/broken-tiffs.js';

/*
 * Malformed images sent to the bridge over REST (an upload, a URL) and over MONAI Label's
 * PUT /datastore/: each gets a 4xx (or a 502 for a server that cannot be reached) whose message
 * names the problem, no image is added, no temporary file is left, and the bridge keeps serving.
 */

interface BadInput {
  what: string;
  bytes: () => Uint8Array;
  status: number;
  /** What the error message must say. */
  says: RegExp;
}

const BAD_TIFFS: BadInput[] = [
  {
    what: 'a TIFF whose pixel data is cut off',
    bytes: () => {
      const { bytes } = syntheticTiff(128, 3);
      return bytes.slice(0, Math.floor(bytes.length * 0.7));
    },
    status: 400,
    says: /page \d+ strip \d+ .*runs past the end of the file .*truncated/,
  },
  {
    what: 'a TIFF whose header claims 100000 x 100000 pixels',
    bytes: () => withTag(withTag(onePage(), TAG.width, 100_000), TAG.height, 100_000),
    status: 413,
    says: /100000 x 100000 x 1 channels is 10,000 megapixels, over the limit of 4,000 megapixels/,
  },
  {
    what: 'a TIFF whose strip holds fewer bytes than its pixels',
    bytes: () => withTag(onePage(), TAG.stripByteCounts, 100),
    status: 400,
    says: /page 0 strip 0 holds 100 bytes but its 64 x \d+ pixels need \d+/,
  },
  {
    what: 'a TIFF whose page chain loops',
    bytes: () => withNextPage(onePage()),
    status: 400,
    says: /the page chain loops back at page 1/,
  },
];

describe('malformed input: a clear 4xx, nothing stored, the bridge keeps serving', () => {
  let t: TestBridge;
  before(async () => {
    // Loopback is allowed for the unreachable-URL case (URL imports refuse it by default).
    t = await startTestBridge({ allowImportHosts: ['127.0.0.1'] });
    const r = await t.api('/api/projects', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'bad input', id: 'bad' }),
    });
    assert.equal(r.status, 201);
  });
  after(async () => {
    await t.stop();
  });

  const imageCount = async () =>
    ((await (await t.api('/api/projects/bad')).json()) as { images: unknown[] }).images.length;
  const monaiCount = async () => ((await (await t.api('/datastore/?output=stats')).json()) as { total: number }).total;
  const tempFiles = () => readdir(path.join(t.bridge.dataDir, 'tmp'));
  const stillServing = async () => assert.equal((await t.api('/api/info')).status, 200);

  /** Sends the request, checks the answer, and that the counts and the temp folder did not change. */
  async function refused(send: () => Promise<Response>, input: Omit<BadInput, 'bytes'>): Promise<void> {
    const [images, monai] = [await imageCount(), await monaiCount()];
    const r = await send();
    const body = (await r.json()) as ErrorBody;
    assert.equal(r.status, input.status, `${input.what}: ${JSON.stringify(body)}`);
    assert.match(body.error.message, input.says, input.what);
    assert.equal(await imageCount(), images, `${input.what}: no image added over REST`);
    assert.equal(await monaiCount(), monai, `${input.what}: no image added to the MONAI datastore`);
    assert.deepEqual(await tempFiles(), [], `${input.what}: no temporary file left`);
    await stillServing();
  }

  for (const input of BAD_TIFFS) {
    it(`REST upload: ${input.what}`, async () => {
      const body = Buffer.from(input.bytes());
      const upload = () =>
        t.api('/api/projects/bad/images?name=bad', { method: 'POST', headers: { 'Content-Type': 'image/tiff' }, body });
      await refused(upload, input);
    });

    it(`MONAI PUT /datastore/: ${input.what}`, async () => {
      const form = new FormData();
      form.append('file', new Blob([Buffer.from(input.bytes())], { type: 'image/tiff' }), 'bad.tif');
      form.append('params', '{}');
      await refused(() => t.api('/datastore/?image=bad', { method: 'PUT', body: form }), input);
    });
  }

  it('REST import from an unreachable URL: 502 naming the URL', async () => {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    const url = 'http://127.0.0.1:1/slide.ome.zarr';
    const send = () =>
      t.api('/api/projects/bad/images', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ url }),
      });
    await refused(send, {
      what: 'an unreachable URL',
      status: 502,
      says: /127\.0\.0\.1:1\/slide\.ome\.zarr: cannot be reached/,
    });
  });

  it('downloads of images with non-ASCII names and quotes carry RFC 6266 names (no 500)', async () => {
    for (const name of ['細胞', 'say "hi"']) {
      const form = new FormData();
      form.append('file', new Blob([Buffer.from(syntheticTiff(32, 6).bytes)], { type: 'image/tiff' }), 'x.tif');
      const put = await t.api(`/datastore/?image=${encodeURIComponent(name)}`, { method: 'PUT', body: form });
      assert.equal(put.status, 200, await put.clone().text());
      const r = await t.api(`/datastore/image?image=${encodeURIComponent(name)}`);
      assert.equal(r.status, 200, name);
      const disposition = r.headers.get('content-disposition') ?? '';
      assert.ok(disposition.includes(`filename*=UTF-8''${encodeURIComponent(`${name}.tif`)}`), disposition);
      assert.doesNotMatch(disposition.replace(/filename\*=.*$/, ''), /[^\x20-\x7e]|"[^"]*"[^;]*"/, disposition);
    }
  });

  it('still imports a good TIFF after all of the above', async () => {
    const before = await imageCount();
    const body = Buffer.from(syntheticTiff(64, 5).bytes);
    const r = await t.api('/api/projects/bad/images?name=good', {
      method: 'POST',
      headers: { 'Content-Type': 'image/tiff' },
      body,
    });
    assert.equal(r.status, 201);
    assert.equal(await imageCount(), before + 1);
  });
});
