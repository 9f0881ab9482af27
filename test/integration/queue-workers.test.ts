// Jobs on `impartial worker` processes through BullMQ: a bridge on PostgreSQL, Redis and S3 object
// storage (PostgreSQL and Redis started by the test on loopback, s3rver in this process) and two
// worker processes, each with its own cache folder: nothing is shared but the engines. The worker
// training a job is killed with SIGKILL at about 30% of its steps; the other one notices within
// seconds and goes on from the checkpoint, which it reads from the object storage.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runInferTask, SYSTEM } from '@impartial/bridge-server';
import { ObjectStore, parseObjectStoreUrl } from '@impartial/bridge-server/store';
import type { ModelRecord } from '@impartial/shared';
import { FileSystemStore } from '@impartial/shared/node';
import FetchStore from '@zarrita/storage/fetch';
import { Job, Queue } from 'bullmq';
import * as zarr from 'zarrita';
import { line, projectWithImage, startTestBridge, type TestBridge, TestClient } from '../helpers/bridge.js';
import { type Postgres, postgresMissing, startPostgres } from '../helpers/postgres.js';
import { alive, type CliProcess, startWorker } from '../helpers/processes.js';
import { type RedisServer, redisMissing, startRedis } from '../helpers/redis.js';
import { type S3Server, startS3 } from '../helpers/s3.js';
import { waitFor } from '../helpers/wait.js';

const STEPS = 600;
const CHECKPOINT_EVERY = 20;

describe('jobs on worker processes through BullMQ', {
  skip: postgresMissing() ?? redisMissing() ?? false,
  timeout: 300_000,
}, () => {
  let pg: Postgres;
  let redis: RedisServer;
  let s3: S3Server;
  let caches: string;
  /** The image the first test trains on; the second predicts it. */
  let trainedImage = '';
  let t: TestBridge;
  let workers: CliProcess[];
  before(async () => {
    [pg, redis, s3] = await Promise.all([startPostgres(), startRedis(), startS3()]);
    t = await startTestBridge({
      database: pg.database('queue'),
      queue: redis.url,
      objects: s3.storeUrl('queue'),
      checkpointEvery: CHECKPOINT_EVERY,
    });
    caches = await mkdtemp(path.join(tmpdir(), 'impartial-workers-'));
    const store = s3.storeUrl('queue');
    workers = ['w1', 'w2'].map((name) => startWorker(name, redis.url, store, path.join(caches, name)));
    await waitFor(() => workers.every((w) => /waiting for jobs/.test(w.out())), {
      timeoutMs: 60_000,
      what: () => `both workers ready (${workers.map((w) => w.out()).join(' | ')})`,
    });
  });
  after(async () => {
    for (const w of workers ?? []) w.child.kill('SIGKILL');
    await t?.stop();
    await redis?.stop();
    await s3?.stop();
    pg?.stop();
    if (caches) await rm(caches, { recursive: true, force: true });
  });

  it('finishes a training on the second worker from a checkpoint when the first is killed', async () => {
    const image = (await projectWithImage(t, 160, 3, 'q')).id;
    trainedImage = image;
    const c = await TestClient.join(t.bridge, image, 'trainer');
    c.send({ type: 'draw', ref: 'fg', drawing: line(20, 20, 60, 60, 1, 4) });
    c.send({ type: 'draw', ref: 'bg', drawing: line(100, 10, 150, 30, 2, 4) });
    await c.next((m) => m.type === 'entry' && m.ref === 'bg', 10_000, 'entry');
    const options = { steps: STEPS, depth: 2, base: 8, batchSize: 4, patch: 48, init: 'scratch' as const };
    c.send({ type: 'train-start', ref: 't', options });
    const job = (await c.next((m) => m.type === 'job' && m.ref === 't', 10_000, 'job')).job;
    const progress = () => c.of('train-progress').filter((m) => m.job === job.id);
    await c.next(() => progress().some((p) => p.step >= 0.3 * STEPS), 120_000, 'train-progress');
    const first = await waitFor(() => workers.find((w) => w.out().includes(`job ${job.id} (train)`)), {
      timeoutMs: 10_000,
      what: 'the worker that took the training',
    });
    first.child.kill('SIGKILL');
    const killedAt = Math.max(...progress().map((p) => p.step));
    const seenBefore = progress().length;
    const second = workers.find((w) => w !== first)!;

    const done = await c.next(
      (m) => m.type === 'job' && m.job.id === job.id && m.job.status !== 'running' && m.job.status !== 'queued',
      180_000,
      'job',
    );
    assert.equal(done.job.status, 'done', JSON.stringify(done.job));
    assert.match(second.out(), new RegExp(`job ${job.id} \\(train\\), taken over`));
    const after = progress().slice(seenBefore);
    assert.ok(after.length > 0, 'the WebSocket client saw progress after the kill too');
    assert.ok(after[0]!.step > CHECKPOINT_EVERY, `resumed from a checkpoint, not step 0 (first: ${after[0]!.step})`);
    assert.ok(after[0]!.step <= killedAt + CHECKPOINT_EVERY + 50, 'from about where it was');
    const record = (await (await t.api(`/api/jobs/${job.id}`)).json()) as { log: string };
    // The checkpoint carried Adam's state: the worker went on from its moments and step count.
    const resumedAt = /w\d: resuming from the checkpoint at step (\d+) with Adam's state of step (\d+)/.exec(
      record.log,
    );
    assert.ok(resumedAt, record.log);
    assert.equal(resumedAt[2], resumedAt[1], "Adam's step count is the checkpoint's");

    // One model version, with every step counted once.
    const models = (await (await t.api(`/api/projects/q/models`)).json()) as ModelRecord[];
    assert.equal(models.length, 1, JSON.stringify(models));
    assert.equal(models[0]!.steps, STEPS);
    const objects = new ObjectStore(parseObjectStoreUrl(s3.storeUrl('queue')));
    const listed = async (prefix: string) => {
      const out: string[] = [];
      for await (const k of objects.list(prefix)) out.push(k);
      return out;
    };
    const modelIds = new Set((await listed('models/')).map((k) => k.split('/')[1]));
    assert.deepEqual([...modelIds], [models[0]!.id], 'one model in the object storage');
    assert.deepEqual(await listed('tmp/checkpoints/'), [], 'its checkpoints removed');

    // Its prediction, on the worker still running, read back over HTTP as the viewer reads it.
    c.send({ type: 'infer', ref: 'i', request: { model: models[0]!.id, tile: 64, passes: 2 } });
    const complete = await c.next(
      (m) => m.type === 'tiles' && m.prediction.model === models[0]!.id && m.prediction.status === 'complete',
      120_000,
      'tiles',
    );
    const store = new FetchStore(`${t.bridge.url}${complete.prediction.url}`, {
      overrides: { headers: { Authorization: `Bearer ${t.bridge.token}` } },
    });
    const level0 = await zarr.open.v2(zarr.root(store).resolve('0'), { kind: 'array' });
    assert.deepEqual(level0.shape, [2, 160, 160]);
    const chunk = await zarr.get(level0, [0, null, null]);
    const p = chunk.data as Float32Array;
    assert.ok(
      p.every((v) => v >= 0 && v <= 1),
      'probabilities',
    );
    // Read from the object storage: the bridge's folder never held it.
    assert.ok(!existsSync(path.join(t.bridge.dataDir, 'predictions')));
    assert.ok((await listed(`predictions/${image}/`)).length > 0);
    objects.close();

    // A cancellation reaches the worker running the training.
    c.send({ type: 'train-start', ref: 'long', options: { ...options, steps: 100_000 } });
    const long = (await c.next((m) => m.type === 'job' && m.ref === 'long', 10_000, 'job')).job;
    await c.next(() => c.of('train-progress').some((p) => p.job === long.id), 60_000, 'train-progress');
    assert.equal((await t.api(`/api/jobs/${long.id}`, { method: 'DELETE' })).status, 202);
    const ended = await c.next(
      (m) => m.type === 'job' && m.job.id === long.id && m.job.status !== 'running' && m.job.status !== 'queued',
      60_000,
      'job',
    );
    assert.equal(ended.job.status, 'cancelled');
    c.close();
  });

  it('spreads an inference over the workers and cuts the same cells as one worker alone', async () => {
    const w3 = startWorker('w3', redis.url, s3.storeUrl('queue'), path.join(caches, 'w3'));
    workers.push(w3);
    await waitFor(() => /waiting for jobs/.test(w3.out()), { timeoutMs: 60_000, what: () => `w3 ready: ${w3.out()}` });
    // The shipped starting model on an image of its own (a project with no model predicts with it): its
    // cells do not depend on where the killed training above resumed.
    const id = (await projectWithImage(t, 160, 3, 'farm', { unsaturated: true })).id;
    const c = await TestClient.join(t.bridge, id, 'farm');
    // 9 tiles of 64 px in one deterministic pass: 5 shares of 2 tiles (the smallest tile a request may ask for).
    c.send({ type: 'infer', ref: 'farm', request: { tile: 64, passes: 1 } });
    const job = (await c.next((m) => m.type === 'job' && m.ref === 'farm', 10_000, 'job')).job;
    const complete = await c.next(
      (m) => m.type === 'tiles' && m.job === job.id && m.prediction.status === 'complete',
      180_000,
      'tiles',
    );
    const model = complete.prediction.model;
    const tilesSeen = c.of('tiles').filter((m) => m.job === job.id && m.tiles.length === 1).length;
    assert.equal(tilesSeen, 9, 'every tile announced once, as it landed');
    const record = (await (await t.api(`/api/jobs/${job.id}`)).json()) as { log: string };
    const shared = /(\d+) share\(s\) of 2 tiles were predicted by other workers/.exec(record.log);
    assert.ok(shared && Number(shared[1]) >= 1, `other workers took shares: ${record.log}`);
    const shareLines = workers.map(
      (w) => (w.out().match(new RegExp(`job ${job.id}\\.[^ ]+ \\(tile-maps\\)`, 'g')) ?? []).length,
    );
    assert.equal(
      shareLines.reduce((a, b) => a + b, 0),
      Number(shared![1]),
      `shares per worker: ${shareLines}`,
    );

    // The same inference by one thread, from the same objects, into a folder of its own.
    const checkDir = await mkdtemp(path.join(tmpdir(), 'impartial-farm-check-'));
    try {
      const info = await t.bridge.services.images.get(SYSTEM, id);
      const root = path.join(checkDir, 'data');
      const alone = path.join(root, 'alone.ome.zarr');
      await runInferTask(
        {
          kind: 'infer',
          files: { store: s3.storeUrl('queue'), root },
          image: { ...info, dir: path.join(root, 'images', `${id}.ome.zarr`) },
          modelDir: path.join(root, 'models', model),
          outDir: alone,
          tile: 64,
          passes: 1,
        },
        { signal: new AbortController().signal, log: () => {}, tile: () => {} },
      );
      const remote = new FetchStore(`${t.bridge.url}${complete.prediction.url}`, {
        overrides: { headers: { Authorization: `Bearer ${t.bridge.token}` } },
      });
      const read = async (store: zarr.Readable, at: string) =>
        (await zarr.get(await zarr.open.v2(zarr.root(store).resolve(at), { kind: 'array' }))).data;
      const [farmed, single] = [
        await read(remote, 'labels/instances/0'),
        await read(new FileSystemStore(alone), 'labels/instances/0'),
      ];
      assert.equal(farmed.length, 160 * 160);
      assert.ok(new Set(farmed as Uint32Array).size > 2, 'cells were found');
      assert.deepEqual(farmed, single, 'the same cells, the same ids');
      const [p1, p2] = [await read(remote, '0'), await read(new FileSystemStore(alone), '0')] as Float32Array[];
      assert.ok(
        p1!.every((v, i) => Math.abs(v - p2![i]!) < 1e-5),
        'the same maps',
      );
    } finally {
      await rm(checkDir, { recursive: true, force: true });
    }
    c.close();
  });

  it('drops the shares an earlier attempt of a farmed inference left in the queue', async () => {
    const models = (await (await t.api(`/api/projects/q/models`)).json()) as ModelRecord[];
    const info = await t.bridge.services.images.get(SYSTEM, trainedImage);
    // Paused, no worker takes a share: what the earlier attempt queued stays waiting, as when all are busy.
    const queue = new Queue('impartial-jobs', { connection: { url: redis.url, maxRetriesPerRequest: null } });
    const checkDir = await mkdtemp(path.join(tmpdir(), 'impartial-farm-retry-'));
    try {
      await queue.pause();
      const job = 'jretry';
      const stale = await queue.add('tile-maps', { spec: {} }, { jobId: `${job}.old.1`, priority: 10 });
      assert.equal(await stale.getState(), 'prioritized', 'waiting its turn');
      const root = path.join(checkDir, 'data');
      await runInferTask(
        {
          kind: 'infer',
          files: { store: s3.storeUrl('queue'), root },
          image: { ...info, dir: path.join(root, 'images', `${trainedImage}.ome.zarr`) },
          modelDir: path.join(root, 'models', models[0]!.id),
          outDir: path.join(root, 'retry.ome.zarr'),
          tempDir: path.join(root, 'tmp'),
          farm: { queue: redis.url, job, priority: 10, retry: true },
          tile: 64,
          passes: 1,
        },
        { signal: new AbortController().signal, log: () => {}, tile: () => {} },
      );
      assert.equal(await Job.fromId(queue, stale.id!), undefined, "the earlier attempt's share is gone");
      assert.deepEqual(
        (await queue.getJobs(['waiting', 'prioritized'])).filter((j) => j.id?.startsWith(`${job}.`)),
        [],
        'and this attempt took its own shares back',
      );
    } finally {
      await queue.resume();
      await queue.close();
      await rm(checkDir, { recursive: true, force: true });
    }
  });

  it('stops a worker frozen past its lock once another has taken its training over', async () => {
    const c = await TestClient.join(t.bridge, trainedImage, 'frozen');
    const options = { steps: 400, depth: 2, base: 8, batchSize: 4, patch: 48, init: 'scratch' as const };
    c.send({ type: 'train-start', ref: 'f', options });
    const job = (await c.next((m) => m.type === 'job' && m.ref === 'f', 10_000, 'job')).job;
    await c.next(() => c.of('train-progress').some((p) => p.job === job.id && p.step >= 60), 120_000, 'train-progress');
    const running = workers.filter(alive);
    const frozen = await waitFor(() => running.find((w) => w.out().includes(`job ${job.id} (train)`)), {
      timeoutMs: 10_000,
      what: 'the worker training',
    });
    frozen.child.kill('SIGSTOP');
    const other = running.find((w) => w !== frozen)!;
    try {
      await waitFor(() => other.out().includes(`job ${job.id} (train), taken over`), {
        timeoutMs: 60_000,
        what: () => `the training taken over: ${other.out()}`,
      });
    } finally {
      frozen.child.kill('SIGCONT');
    }
    await waitFor(() => frozen.out().includes(`lost the lock of job ${job.id}`), {
      timeoutMs: 30_000,
      what: () => `the frozen worker stopping: ${frozen.out()}`,
    });
    const done = await c.next(
      (m) => m.type === 'job' && m.job.id === job.id && m.job.status !== 'running' && m.job.status !== 'queued',
      180_000,
      'job',
    );
    assert.equal(done.job.status, 'done', JSON.stringify(done.job));
    const models = (await (await t.api(`/api/projects/q/models`)).json()) as ModelRecord[];
    const made = models.filter((m) => m.id === (done.job.result as { model: string }).model);
    assert.equal(made.length, 1);
    assert.equal(made[0]!.steps, 400, 'every step counted once');
    c.close();
  });
});
