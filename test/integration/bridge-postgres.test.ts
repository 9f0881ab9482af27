// The bridge with its index in PostgreSQL (`impartial serve --db postgres://...`), on a cluster the
// test starts on loopback: live sync, a training and its prediction, and a restart that keeps it all.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { line, projectWithImage, startTestBridge, type TestBridge, TestClient } from '../helpers/bridge.js';
import { type Postgres, postgresMissing, startPostgres } from '../helpers/postgres.js';

const TINY = { steps: 4, depth: 2, base: 4, batchSize: 2, patch: 32, init: 'scratch' as const };

describe('the bridge on PostgreSQL', { skip: postgresMissing() ?? false }, () => {
  let pg: Postgres;
  let database: string;
  let t: TestBridge;
  let restarted: TestBridge | null = null;
  before(async () => {
    pg = await startPostgres();
    database = pg.database('bridge');
    t = await startTestBridge({ database });
  });
  after(async () => {
    // After the restart the first bridge is closed; its folder holds the data the second used.
    if (restarted) {
      await restarted.stop();
      await rm(t.dir, { recursive: true, force: true });
    } else await t.stop();
    pg.stop();
  });

  it('syncs strokes in one order, trains, predicts, and keeps it all over a restart', async () => {
    const image = (await projectWithImage(t, 160, 3, 'pg')).id;
    const a = await TestClient.join(t.bridge, image, 'alice');
    const b = await TestClient.join(t.bridge, image, 'bob');
    for (let k = 0; k < 10; k++) {
      a.send({ type: 'draw', ref: `a${k}`, drawing: line(10, 10 + k * 12, 60, 10 + k * 12, 1, 3) });
      b.send({ type: 'draw', ref: `b${k}`, drawing: line(90, 10 + k * 12, 150, 10 + k * 12, 2, 3) });
    }
    const seqs = (c: TestClient) => c.of('entry').map((m) => m.entry.seq);
    await a.next(() => seqs(a).length >= 20, 30_000, 'entry');
    await b.next(() => seqs(b).length >= 20, 30_000, 'entry');
    assert.deepEqual(seqs(a), seqs(b), 'one order for both');
    assert.deepEqual(
      seqs(a),
      Array.from({ length: 20 }, (_, k) => k + 1),
      'in sequence, no gap',
    );
    a.send({ type: 'train-start', ref: 't', options: TINY });
    const job = await a.next((m) => m.type === 'job' && m.ref === 't', 10_000, 'job');
    const done = await a.next(
      (m) => m.type === 'job' && m.job.id === job.job.id && (m.job.status === 'done' || m.job.status === 'failed'),
      120_000,
      'job',
    );
    assert.equal(done.job.status, 'done', JSON.stringify(done.job));
    const model = await a.next((m) => m.type === 'model', 10_000, 'model');
    a.send({ type: 'infer', ref: 'i', request: { passes: 1 } });
    await a.next((m) => m.type === 'tiles' && m.prediction.status === 'complete', 120_000, 'tiles');
    a.close();
    b.close();

    // The same data folder and database after a restart.
    await t.bridge.close();
    restarted = await startTestBridge({ database, data: t.bridge.dataDir });
    const c = await TestClient.join(restarted.bridge, image, 'carol');
    const welcome = c.of('welcome')[0]!;
    assert.equal(welcome.seq, 20);
    assert.equal(welcome.currentModel, model.model.id);
    assert.equal(welcome.prediction?.status, 'complete');
    c.close();
  });
});
