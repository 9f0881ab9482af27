// A project with no model yet: a prediction asked for uses the shipped starting model (added once as
// the project's first version), and `viewportOnly` predicts only the tiles in view.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SYSTEM } from '@impartial/bridge-server';
import { type ModelRecord, openArray, type PredictionRecord, readRegion } from '@impartial/shared';
import { FileSystemStore } from '@impartial/shared/node';
import { folderOf, projectWithImage, startTestBridge, type TestBridge, TestClient } from '../helpers/bridge.js';

describe('a first look with the shipped starting model', { timeout: 180_000 }, () => {
  let t: TestBridge;

  before(async () => {
    t = await startTestBridge();
  });
  after(async () => {
    await t?.stop();
  });

  it('predicts only the tiles in view, with the starting model added once as the first version', async () => {
    const image = (await projectWithImage(t, 512, 4, 'fresh', { unsaturated: true })).id;
    const a = await TestClient.join(t.bridge, image, 'first-viewer');
    const b = await TestClient.join(t.bridge, image, 'second-viewer');
    const viewport = { x: 10, y: 20, width: 200, height: 150 };
    // Two viewers open the image at once and both ask.
    a.send({ type: 'infer', ref: 'a', request: { viewport, viewportOnly: true, tile: 256, passes: 1 } });
    b.send({ type: 'infer', ref: 'b', request: { viewport, viewportOnly: true, tile: 256, passes: 1 } });
    const done = (client: TestClient) =>
      client.next((m) => m.type === 'tiles' && m.prediction.status === 'complete', 120_000, 'tiles');
    const [first, second] = await Promise.all([done(a), done(b)]);

    const models = (await (await t.api('/api/projects/fresh/models')).json()) as ModelRecord[];
    assert.equal(models.length, 1, 'the starting model was added once');
    const [model] = models;
    assert.equal(first.prediction.model, model!.id);
    assert.equal(second.prediction.model, model!.id);
    const project = (await (await t.api('/api/projects/fresh')).json()) as { currentModel: string | null };
    assert.equal(project.currentModel, model!.id, 'and is the current model');
    const files = await t.api(`/api/models/${model!.id}/files/model.json`);
    const lineage = ((await files.json()) as { lineage: { author: string; parent: string | null } }).lineage;
    assert.equal(lineage.author, 'generic');
    assert.ok(lineage.parent, 'its parent is the shipped model');

    // Only the tile at (0, 0) meets the viewport: cells there, nothing written elsewhere.
    const tiles = a.messages
      .filter((m): m is Extract<typeof m, { type: 'tiles' }> => m.type === 'tiles')
      .flatMap((m) => m.tiles);
    assert.ok(tiles.length > 0);
    assert.ok(
      tiles.every((r) => r.x === 0 && r.y === 0 && r.width === 256 && r.height === 256),
      JSON.stringify(tiles),
    );
    const record: PredictionRecord = first.prediction;
    const zarr = new FileSystemStore(
      folderOf(await t.bridge.services.predictions.zarrFiles(SYSTEM, image, record.model)),
    );
    const labels = await readRegion(await openArray(zarr, 'labels/instances/0'), 0, 0, 512, 512);
    let inView = 0,
      outside = 0;
    for (let y = 0; y < 512; y++)
      for (let x = 0; x < 512; x++) {
        if (!labels[y * 512 + x]) continue;
        if (x < 256 && y < 256) inView++;
        else outside++;
      }
    assert.ok(inView > 1000, `cells in the tile in view: ${inView} pixels`);
    assert.equal(outside, 0, 'no tile outside the view was predicted');
    a.close();
    b.close();
  });
});
