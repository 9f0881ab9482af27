import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Drawing, readTiff } from '@impartial/shared';
import { projectWithImage, startTestBridge, type TestBridge } from '../helpers/bridge.js';
import { waitFor } from '../helpers/wait.js';

/*
 * The raster worker (bridge-server/src/store/strokes): an image deleted while its scribble raster
 * is being written leaves no file behind (the write under way finishes first), and the worker
 * goes on serving other images.
 */

/** Files under a folder, all depths (none if it is gone). */
const filesUnder = (dir: string): number =>
  existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length : 0;

describe('scribble rasters of a deleted image', () => {
  let t: TestBridge;
  before(async () => {
    t = await startTestBridge();
  });
  after(async () => {
    await t.stop();
  });

  const post = (image: string, drawing: Drawing) =>
    t.api(`/api/images/${image}/strokes`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ drawing }),
    });
  /** Covers all of a 2048 x 2048 image: every tile of every level is written. */
  const everywhere: Drawing = {
    op: 'add',
    class: 1,
    width: 512,
    points: Array.from({ length: 9 }, (_, i) => [i % 2 ? 2047 : 0, i * 256] as [number, number]),
  };

  it('deleted while its scribbles are written: no file comes back, and the worker keeps working', async () => {
    const doomed = await projectWithImage(t, 2048, 7, 'doomed');
    const folder = path.join(t.dir, 'data', 'images', `${doomed.id}.ome.zarr`);
    const scribbles = path.join(folder, 'labels', 'scribbles');
    const before = filesUnder(scribbles);
    assert.equal((await post(doomed.id, everywhere)).status, 201);
    // The first tile is written: the deletion lands while the others are.
    await waitFor(() => filesUnder(scribbles) > before, {
      timeoutMs: 60_000,
      what: 'a scribble tile written',
      intervalMs: 2,
    });
    const deleted = await t.api(`/datastore/image?id=${doomed.id}`, { method: 'DELETE' });
    assert.equal(deleted.status, 200, await deleted.text());
    await t.bridge.settle();
    assert.equal(existsSync(folder), false, `the image folder is gone (${filesUnder(folder)} files came back)`);
    assert.equal(existsSync(path.join(t.dir, 'data', 'labels', doomed.id)), false);

    const kept = await projectWithImage(t, 256, 8, 'kept');
    assert.equal((await post(kept.id, { op: 'add', class: 2, width: 9, points: [[100, 100]] })).status, 201);
    const r = await t.api(`/api/images/${kept.id}/scribbles.tif`);
    assert.equal(r.status, 200);
    const painted = (await readTiff(await r.arrayBuffer())).data.filter((v) => v === 2).length;
    assert.ok(painted > 50 && painted < 100, `${painted} background pixels painted by a dab of width 9`);
  });
});
