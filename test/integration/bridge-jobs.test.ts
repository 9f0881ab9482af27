import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SYSTEM } from '@impartial/bridge-server';
import { type JobRecord, type ModelRecord, openArray, readRegion, readRoiZip, readTiff } from '@impartial/shared';
import { FileSystemStore } from '@impartial/shared/node';
import FetchStore from '@zarrita/storage/fetch';
import * as zarr from 'zarrita';
import { folderOf, line, projectWithImage, startTestBridge, type TestBridge, TestClient } from '../helpers/bridge.js';

/** A tiny net and a few steps: these tests check the plumbing, not accuracy (that is `npm run bench`). */
const TINY = { steps: 4, depth: 2, base: 4, batchSize: 2, patch: 32, init: 'scratch' as const };

describe('bridge jobs: train -> progress -> model version -> infer -> OME-Zarr', () => {
  let t: TestBridge;
  before(async () => {
    t = await startTestBridge();
  });
  after(async () => {
    await t.stop();
  });

  /** A 160 x 160 image in a project of its own, with a cell and a background stroke: ready to train. */
  async function strokedImage(project: string): Promise<string> {
    const image = (await projectWithImage(t, 160, 3, project)).id;
    const c = await TestClient.join(t.bridge, image, 'scribbler');
    c.send({ type: 'draw', ref: 's1', drawing: line(20, 20, 60, 60, 1, 4) });
    c.send({ type: 'draw', ref: 's2', drawing: line(100, 10, 150, 30, 2, 4) });
    await c.next((m) => m.type === 'entry' && m.ref === 's2', 10_000, 'entry');
    c.close();
    return image;
  }

  /** strokedImage, and a first model trained on it (its training job done). */
  async function trainedImage(project: string): Promise<string> {
    const image = await strokedImage(project);
    const c = await TestClient.join(t.bridge, image, 'first-trainer');
    c.send({ type: 'train-start', ref: 'first', options: TINY });
    const job = await c.next((m) => m.type === 'job' && m.ref === 'first', 10_000, 'job');
    await c.next((m) => m.type === 'job' && m.job.id === job.job.id && m.job.status === 'done', 120_000, 'job');
    c.close();
    return image;
  }

  it('refuses to train without cell and background strokes, naming what is missing', async () => {
    await projectWithImage(t, 160, 3, 'unstroked');
    const r = await t.api('/api/projects/unstroked/train', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(TINY),
    });
    assert.equal(r.status, 400);
    assert.match(
      ((await r.json()) as { error: { message: string } }).error.message,
      /cell stroke \(class 1\) and one background stroke/,
    );
  });

  it('trains in a worker with progress to every client, then predicts the viewport first', async () => {
    const image = (await projectWithImage(t, 160, 3, 'first')).id;
    const a = await TestClient.join(t.bridge, image, 'ann');
    const watcher = await TestClient.join(t.bridge, image, 'watcher');
    a.send({ type: 'draw', ref: 's1', drawing: line(20, 20, 60, 60, 1, 4) });
    a.send({ type: 'draw', ref: 's2', drawing: line(100, 10, 150, 30, 2, 4) });
    await a.next((m) => m.type === 'entry' && m.ref === 's2');
    a.send({ type: 'train-start', ref: 't1', options: TINY });
    const started = await a.next((m) => m.type === 'job' && m.ref === 't1', 10_000, 'job');
    assert.equal(started.job.status, 'running');

    const again = await t.api('/api/projects/first/train', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(TINY),
    });
    assert.equal(again.status, 409, 'one training per project');
    const queued = await t.api('/api/projects/first/train', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...TINY, queue: true }),
    });
    assert.equal(queued.status, 202);
    const queuedJob = (await queued.json()) as JobRecord;
    assert.equal(queuedJob.status, 'queued', 'or waits its turn when asked to');
    const cancelled = await t.api(`/api/jobs/${queuedJob.id}`, { method: 'DELETE' });
    assert.equal(cancelled.status, 202);

    const model = await watcher.next((m) => m.type === 'model', 120_000, 'model');
    const progress = watcher.of('train-progress');
    assert.ok(progress.length >= 1, 'progress reached the other client');
    assert.equal(progress.at(-1)!.step, TINY.steps);
    assert.ok(Number.isFinite(progress.at(-1)!.loss) && progress.at(-1)!.stepsPerSecond > 0);
    assert.equal(model.current, true);
    assert.equal(model.model.steps, TINY.steps);
    assert.equal(model.model.parent, null);
    assert.match(model.model.strokesHash, /^[0-9a-f]{16}$/);
    const done = await watcher.next(
      (m) => m.type === 'job' && m.job.id === started.job.id && m.job.status === 'done',
      10_000,
      'job',
    );
    assert.equal(done.job.result?.model, model.model.id);
    const q = (await (await t.api(`/api/jobs/${queuedJob.id}`)).json()) as JobRecord;
    assert.equal(q.status, 'cancelled', 'the queued job stayed cancelled');

    const files = await t.api(`/api/models/${model.model.id}/files/model.json`);
    assert.equal(files.status, 200);
    const saved = (await files.json()) as { lineage: { id: string; instances?: unknown } };
    assert.equal(saved.lineage.id, model.model.id);
    assert.equal(saved.lineage.instances, undefined, 'no cell outlined: the default cut');

    // Inference with a viewport in the lower right: its tile comes first.
    const viewport = { x: 100, y: 100, width: 40, height: 40 };
    a.send({ type: 'infer', ref: 'i1', request: { viewport, tile: 64, passes: 2 } });
    const inferJob = await a.next((m) => m.type === 'job' && m.ref === 'i1', 10_000, 'job');
    const complete = await watcher.next(
      (m) => m.type === 'tiles' && m.job === inferJob.job.id && m.prediction.status === 'complete',
      120_000,
      'tiles',
    );
    const tiles = watcher
      .of('tiles')
      .filter((m) => m.job === inferJob.job.id)
      .flatMap((m) => m.tiles);
    const first = tiles[0]!;
    assert.ok(
      first.x < viewport.x + viewport.width &&
        first.x + first.width > viewport.x &&
        first.y < viewport.y + viewport.height &&
        first.y + first.height > viewport.y,
      `the first tile ${JSON.stringify(first)} meets the viewport`,
    );
    assert.ok(tiles.length >= 9, 'then the rest of the 160x160 image in 64-px tiles');
    const suggestions = await watcher.next((m) => m.type === 'suggestions', 10_000, 'suggestions');
    assert.ok(
      suggestions.tiles.length > 0 &&
        suggestions.tiles.every((s, i, all) => i === 0 || all[i - 1]!.entropy >= s.entropy),
      'tiles ranked by entropy',
    );
    assert.equal(suggestions.images[0]?.image, image);

    // The prediction is an OME-Zarr the viewer streams: probability and entropy channels + labels/instances.
    const store = new FetchStore(`${t.bridge.url}${complete.prediction.url}`, {
      overrides: { headers: { Authorization: `Bearer ${t.bridge.token}` } },
    });
    const root = await zarr.open.v2(zarr.root(store), { kind: 'group' });
    assert.equal((root.attrs as { multiscales: Array<{ version: string }> }).multiscales[0]!.version, '0.4');
    const level0 = await zarr.open.v2(root.resolve('0'), { kind: 'array' });
    assert.deepEqual(level0.shape, [2, 160, 160]);
    const p = (await zarr.get(level0, [0, null, null])) as { data: Float32Array };
    const e = (await zarr.get(level0, [1, null, null])) as { data: Float32Array };
    assert.ok(
      p.data.every((v) => v >= 0 && v <= 1),
      'probability in [0, 1]',
    );
    assert.ok(
      e.data.every((v) => v >= 0 && v <= Math.LN2 + 1e-6),
      'entropy in [0, ln 2]',
    );
    assert.ok(
      e.data.some((v) => v > 0),
      'entropy is not all zero',
    );
    const level1 = await zarr.open.v2(root.resolve('labels/instances/0'), { kind: 'array' });
    assert.deepEqual(level1.shape, [160, 160]);

    // Exports on request: ROI zip, label TIFF.
    const rois = await t.api(`/api/predictions/${image}/${model.model.id}/rois`);
    assert.equal(rois.status, 200);
    const roiList = readRoiZip(new Uint8Array(await rois.arrayBuffer()));
    assert.equal(roiList.length, complete.prediction.cells);
    const tif = await t.api(`/api/predictions/${image}/${model.model.id}/entropy`);
    const entropyTiff = await readTiff(await tif.arrayBuffer());
    assert.equal(entropyTiff.width, 160);
    a.close();
    watcher.close();
  });

  it('saves the instance cut that best reproduces the cells the person outlined', async () => {
    const image = (await projectWithImage(t, 320, 3, 'outlined')).id;
    const c = await TestClient.join(t.bridge, image, 'outliner');
    const box = (x: number, y: number): Array<[number, number]> => [
      [x, y],
      [x + 24, y],
      [x + 24, y + 24],
      [x, y + 24],
    ];
    c.send({ type: 'outline', ref: 'o1', outline: { points: box(20, 20) } });
    c.send({ type: 'outline', ref: 'o2', outline: { points: box(90, 90) } });
    c.send({ type: 'draw', ref: 'bg', drawing: line(100, 10, 150, 30, 2, 4) });
    const refs = () => new Set(c.of('entry').map((m) => m.ref));
    await c.next(() => ['o1', 'o2', 'bg'].every((r) => refs().has(r)), 10_000);
    c.send({ type: 'train-start', ref: 't', options: TINY });
    const job = await c.next((m) => m.type === 'job' && m.ref === 't', 10_000, 'job');
    const model = await c.next((m) => m.type === 'model', 120_000, 'model');
    await c.next((m) => m.type === 'job' && m.job.id === job.job.id && m.job.status === 'done', 120_000, 'job');
    const record = (await (await t.api(`/api/jobs/${job.job.id}`)).json()) as JobRecord & { log: string };
    const chosen = /instance cut chosen from 2 outlined cell\(s\), (\d+) px predicted/.exec(record.log ?? '');
    assert.ok(chosen, record.log);
    // The outlines lie in the upper left: only the part around them is predicted, not the whole image.
    assert.ok(Number(chosen[1]) < 200 * 200, `${chosen[1]} px predicted`);
    const files = await t.api(`/api/models/${model.model.id}/files/model.json`);
    const cut = ((await files.json()) as { lineage: { instances?: Record<string, unknown> } }).lineage.instances;
    assert.ok(cut, 'the model carries a cut');
    assert.equal(cut.separation, 'distance');
    const threshold = cut.threshold as number;
    assert.ok(threshold >= 0.2 && threshold <= 0.7, `threshold ${threshold} from the calibration grid`);
    assert.ok((cut.seedThreshold as number) > 0 && (cut.seedMinSize as number) >= 5, JSON.stringify(cut));
    c.close();
  });

  it('trains on a chosen subset of channels and predicts with the same ones', async () => {
    const image = await strokedImage('subset');
    const c = await TestClient.join(t.bridge, image, 'subset');
    c.send({ type: 'train-start', ref: 'sub', options: { ...TINY, channels: [1], queue: true } });
    const model = await c.next((m) => m.type === 'model' && m.model.channels.length === 1, 120_000, 'model');
    assert.deepEqual(model.model.channels, [(await t.bridge.services.images.get(SYSTEM, image)).channelNames[1]]);
    c.send({ type: 'infer', ref: 'sub-i', request: { model: model.model.id, tile: 128, passes: 1 } });
    const done = await c.next(
      (m) => m.type === 'tiles' && m.prediction.model === model.model.id && m.prediction.status === 'complete',
      60_000,
      'tiles',
    );
    // The one-channel model ran over the whole image: its prediction holds probabilities everywhere.
    const zarr = new FileSystemStore(
      folderOf(await t.bridge.services.predictions.zarrFiles(SYSTEM, image, model.model.id)),
    );
    const p = await readRegion(await openArray(zarr, '0'), 0, 0, 160, 160, 0);
    assert.equal(p.length, 160 * 160);
    assert.ok(p.every((v) => v >= 0 && v <= 1) && p.some((v) => v > 0), 'probabilities in [0, 1], not all zero');
    assert.equal(typeof done.prediction.cells, 'number');
    // A second request for the same image and model supersedes the first, and starts once it has stopped.
    c.send({ type: 'infer', ref: 'first', request: { model: model.model.id, tile: 64, passes: 1 } });
    const first = await c.next((m) => m.type === 'job' && m.ref === 'first', 10_000, 'job');
    c.send({ type: 'infer', ref: 'second', request: { model: model.model.id, tile: 64, passes: 1 } });
    const second = await c.next((m) => m.type === 'job' && m.ref === 'second', 10_000, 'job');
    assert.equal(second.job.status, 'queued', 'waits for the one it supersedes');
    const ended = await c.next(
      (m) => m.type === 'job' && m.job.id === first.job.id && m.job.status !== 'running',
      60_000,
      'job',
    );
    assert.equal(ended.job.status, 'cancelled');
    const secondDone = await c.next(
      (m) => m.type === 'job' && m.job.id === second.job.id && m.job.status === 'done',
      60_000,
      'job',
    );
    assert.equal(secondDone.job.result?.model, model.model.id);
    const bad = await t.api('/api/projects/subset/train', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...TINY, channels: [5] }),
    });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /channel 5 does not exist/);
    c.close();
  });

  it('fine-tunes the current model into a new version with lineage, and stop keeps what was trained', async () => {
    const image = await trainedImage('tune');
    const c = await TestClient.join(t.bridge, image, 'cal');
    const before = (await (await t.api('/api/projects/tune')).json()) as {
      currentModel: string;
      models: ModelRecord[];
    };
    assert.equal(before.models.length, 1, 'the model trainedImage made, on all channels');
    c.send({ type: 'train-start', ref: 'ft', options: { steps: 100_000, batchSize: 2, patch: 32 } });
    await c.next((m) => m.type === 'train-progress', 60_000);
    // Inference runs beside the training, with the current (saved) model.
    c.send({ type: 'infer', ref: 'during', request: { tile: 128, passes: 1 } });
    const during = await c.next((m) => m.type === 'tiles' && m.prediction.status === 'complete', 60_000, 'tiles');
    assert.equal(during.prediction.model, before.currentModel);
    assert.equal(c.of('model').length, 0, 'while the training was still running');
    c.send({ type: 'train-stop', ref: 'stop' });
    const model = await c.next((m) => m.type === 'model', 60_000, 'model');
    assert.equal(model.model.parent, before.currentModel, 'the new version names its parent');
    assert.ok(model.model.steps > before.models[0]!.steps && model.model.steps < before.models[0]!.steps + 100_000);
    const job = await c.next(
      (m) => m.type === 'job' && m.job.kind === 'train' && m.job.status === 'cancelled',
      30_000,
      'job',
    );
    assert.equal(job.job.result?.model, model.model.id);
    const after = (await (await t.api('/api/projects/tune')).json()) as { currentModel: string; models: ModelRecord[] };
    assert.equal(after.models.length, before.models.length + 1, 'versions are kept, never overwritten');
    assert.equal(after.currentModel, model.model.id);
    c.close();
  });
});
