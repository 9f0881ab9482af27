import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ImageRecord, JobRecord, ServerMessage } from '@impartial/shared';
import {
  drawCellAndBackground,
  projectWithImage,
  startTestBridge,
  type TestBridge,
  TestClient,
  TINY_TRAINING,
} from '../helpers/bridge.js';
import { waitFor } from '../helpers/wait.js';

/*
 * Bounded memory and threads: an image's ring of recent events (what Fiji polls) is capped in
 * bytes, not only entries; inference runs on a bounded number of threads, more requests queue.
 */

describe('the event ring is bounded in bytes', () => {
  let t: TestBridge;
  let image: ImageRecord;
  before(async () => {
    t = await startTestBridge();
    image = await projectWithImage(t, 64, 2);
  });
  after(async () => {
    await t.stop();
  });

  it('big strokes push old events out; a poller behind them is told to reload (reset), not to skip them', async () => {
    const fiji = (p: string) => t.api(`/fiji/${p}`).then((r) => r.text());
    const cursor = Number(/cursor=(\d+)/.exec(await fiji(`hello?image=${image.id}`))![1]);
    const c = await TestClient.join(t.bridge, image.id, 'painter');
    // 40 strokes of 20000 points: ~10 MB of events, over the ring's 8 MB.
    const points = Array.from({ length: 20_000 }, (_, i): [number, number] => [
      (i % 600) / 10,
      Math.floor(i / 600) + 0.25,
    ]);
    for (let k = 0; k < 40; k++) {
      c.send({ type: 'draw', ref: `big${k}`, drawing: { op: 'add', class: 1, width: 1, points } });
      await c.next((m) => m.type === 'entry' && m.ref === `big${k}`, 30_000, 'entry');
    }
    c.close();
    const head = async (p: string) => (await fiji(p)).slice(0, 80);
    assert.match(await head(`events?image=${image.id}&since=${cursor}`), /type=reset/);
    const latest = Number(/cursor=(\d+)/.exec(await fiji(`hello?image=${image.id}`))![1]);
    assert.match(await head(`events?image=${image.id}&since=${latest - 1}`), /type=stroke/, 'recent events are kept');
  });
});

describe('inference runs on a bounded number of threads', () => {
  let t: TestBridge;
  const images: ImageRecord[] = [];
  before(async () => {
    t = await startTestBridge({ maxInferenceThreads: 1 });
    for (const seed of [1, 2, 3]) images.push(await projectWithImage(t, 96, seed));
  });
  after(async () => {
    await t.stop();
  });

  it('three requests at once: one runs, the others queue and then run, never two together', async () => {
    const c = await TestClient.join(t.bridge, images[0]!.id, 'watcher');
    await drawCellAndBackground(c);
    c.send({ type: 'train-start', ref: 't', options: TINY_TRAINING });
    await c.next((m) => m.type === 'model', 120_000, 'model');
    const statuses = new Map<string, JobRecord['status']>();
    // The bridge's own times of each job's start and end: the three sockets are not ordered between them.
    const runs = new Map<string, { from?: string; to?: string }>();
    const watchers = await Promise.all(images.map((i) => TestClient.join(t.bridge, i.id, `w-${i.id}`)));
    for (const w of watchers) {
      w.ws.on('message', (data) => {
        const m = JSON.parse(data.toString()) as ServerMessage;
        if (m.type !== 'job' || m.job.kind !== 'infer') return;
        statuses.set(m.job.id, m.job.status);
        const run = runs.get(m.job.id) ?? {};
        if (m.job.status === 'running') run.from ??= m.job.updated;
        if (m.job.status === 'done' || m.job.status === 'failed') run.to = m.job.updated;
        runs.set(m.job.id, run);
      });
    }
    const started: JobRecord[] = [];
    for (const image of images) {
      const r = await t.api('/api/infer', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ image: image.id, passes: 1, tile: 128 }),
      });
      started.push((await r.json()) as JobRecord);
    }
    assert.deepEqual(
      started.map((j) => j.status),
      ['running', 'queued', 'queued'],
    );
    await waitFor(() => started.every((j) => ['done', 'failed'].includes(statuses.get(j.id) ?? '')), {
      timeoutMs: 180_000,
      what: () => `every inference ended (${[...statuses.values()].join(', ')})`,
    });
    assert.deepEqual(
      started.map((j) => statuses.get(j.id)),
      ['done', 'done', 'done'],
    );
    const spans = started.map((j) => runs.get(j.id)!).sort((a, b) => a.from!.localeCompare(b.from!));
    for (let k = 1; k < spans.length; k++) {
      assert.ok(spans[k - 1]!.to! <= spans[k]!.from!, `never two inferences at once: ${JSON.stringify(spans)}`);
    }
    for (const w of watchers) w.close();
    c.close();
  });
});
