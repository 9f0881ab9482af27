// Live mode: one training keeps running while people draw; each new stroke joins its data without a
// restart, the view is predicted again from its latest weights, and switching it off saves a version.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { JobRecord, ModelRecord, ServerMessage } from '@impartial/shared';
import { line, projectWithImage, startTestBridge, type TestBridge, TestClient } from '../helpers/bridge.js';

/** A tiny net: these tests check the plumbing, not accuracy (the live latency is in `npm run bench`). */
const TINY = { depth: 2, base: 4, batchSize: 2, patch: 32, init: 'scratch' as const };

type Tiles = Extract<ServerMessage, { type: 'tiles' }>;
const isTiles = (m: ServerMessage): m is Tiles => m.type === 'tiles';

describe('live mode', { timeout: 240_000 }, () => {
  let t: TestBridge;
  before(async () => {
    t = await startTestBridge();
  });
  after(async () => {
    await t?.stop();
  });

  it('takes in new strokes without a restart, predicts the view with them, saves a version when off', async () => {
    const image = (await projectWithImage(t, 256, 5, 'live', { unsaturated: true })).id;
    // 600 x 300: two tiles of 512 across, so a view move shows in which tile is predicted.
    const wide = (await projectWithImage(t, 600, 6, 'live', { unsaturated: true, height: 300 })).id;
    const a = await TestClient.join(t.bridge, wide, 'annotator');
    const other = await TestClient.join(t.bridge, wide, 'watcher');
    const live = { image: wide, viewport: { x: 0, y: 0, width: 300, height: 300 }, refreshSeconds: 1 };
    a.send({ type: 'train-start', ref: 'live', options: { ...TINY, live } });
    const started = (await a.next((m) => m.type === 'job' && m.ref === 'live', 20_000, 'job')).job;
    assert.equal(started.status, 'running', 'live mode starts with nothing drawn');
    assert.equal((started.result as { live?: boolean }).live, true);
    const version = (started.result as { model: string }).model;

    // A stroke on another image of the project is not in the view, but joins too (the view's own come next).
    const b = await TestClient.join(t.bridge, image, 'elsewhere');
    b.send({ type: 'draw', ref: 'e', drawing: line(10, 10, 50, 50, 2, 3) });
    await b.next((m) => m.type === 'entry' && m.ref === 'e', 10_000, 'entry');
    b.close();

    a.send({ type: 'draw', ref: 'cell', drawing: line(40, 40, 90, 90, 1, 4) });
    a.send({ type: 'draw', ref: 'bg', drawing: line(200, 20, 280, 40, 2, 4) });
    const bg = (await a.next((m) => m.type === 'entry' && m.ref === 'bg', 10_000, 'entry')).entry;
    const first = await other.next((m) => isTiles(m) && (m.live?.strokes ?? 0) >= bg.seq, 120_000, 'tiles');
    assert.equal(first.job, started.id, 'the live training predicted it');
    assert.equal(first.prediction.model, version, 'under the id of the version it will save');
    assert.ok(
      first.tiles.every((r) => r.x === 0),
      'only the tile in view',
    );

    // One more stroke: the same job takes it in and predicts with it, after more steps.
    a.send({ type: 'draw', ref: 'more', drawing: line(120, 150, 160, 190, 1, 4) });
    const more = (await a.next((m) => m.type === 'entry' && m.ref === 'more', 10_000, 'entry')).entry;
    const second = await other.next((m) => isTiles(m) && (m.live?.strokes ?? 0) >= more.seq, 120_000, 'tiles');
    assert.equal(second.job, started.id, 'no restart');
    assert.ok(second.live!.step > first.live!.step, `step ${second.live!.step} after ${first.live!.step}`);

    // The view moves right: the tile there is predicted.
    a.send({ type: 'view', view: { x: 560, y: 150, zoom: 0, area: { x: 520, y: 0, width: 80, height: 300 } } });
    const moved = await other.next(
      (m) => isTiles(m) && m.live !== undefined && m.tiles.some((r) => r.x === 512),
      120_000,
      'tiles',
    );
    assert.ok(
      moved.tiles.every((r) => r.x === 512),
      JSON.stringify(moved.tiles),
    );

    // Switched off: the job ends as done, and its version is saved and made current.
    a.send({ type: 'train-stop', ref: 'off' });
    const ended = await a.next(
      (m) => m.type === 'job' && m.job.id === started.id && m.job.status !== 'running',
      60_000,
      'job',
    );
    assert.equal(ended.job.status, 'done');
    const job = (await (await t.api(`/api/jobs/${started.id}`)).json()) as JobRecord & { log: string };
    assert.equal((job.result as { model: string }).model, version);
    const models = (await (await t.api('/api/projects/live/models')).json()) as ModelRecord[];
    const saved = models.find((m) => m.id === version);
    assert.ok(saved, 'the version is saved');
    assert.ok(saved.steps > second.live!.step - 1, `${saved.steps} steps`);
    const project = (await (await t.api('/api/projects/live')).json()) as { currentModel: string | null };
    assert.equal(project.currentModel, version);
    a.close();
    other.close();
  });

  it('refuses a live view of an image of another project, naming it', async () => {
    await projectWithImage(t, 64, 7, 'mine');
    const foreign = (await projectWithImage(t, 64, 8, 'theirs')).id;
    const r = await t.api('/api/projects/mine/train', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...TINY, live: { image: foreign } }),
    });
    assert.equal(r.status, 400);
    assert.match(((await r.json()) as { error: { message: string } }).error.message, /belongs to project theirs/);
    const jobs = (await (await t.api('/api/projects/mine/jobs')).json()) as JobRecord[];
    assert.equal(jobs.length, 0, 'nothing started');
  });
});
