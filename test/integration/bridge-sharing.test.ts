import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ImageRecord, JobRecord } from '@impartial/shared';
import {
  accountClients,
  line,
  startTestBridge,
  syntheticTiff,
  type TestBridge,
  TestClient,
  TINY_TRAINING,
} from '../helpers/bridge.js';
import { waitFor } from '../helpers/wait.js';

/*
 * Sharing one machine on a multi-user bridge: one training per account at a time, a cap on jobs
 * running at once with each waiting job told its place in line, a storage quota per account, and
 * work sessions that warn before they expire, end (cancelling their jobs) and restore.
 */

/** A training that runs until it is cancelled. */
const ENDLESS = { ...TINY_TRAINING, steps: 1_000_000 };

async function setUp(t: TestBridge, names: string[]) {
  const { accounts, tokens, as, post } = await accountClients(t, names);
  /** A project of `who` with one image that has a cell and a background stroke. */
  const projectWithStrokes = async (who: string, id: string): Promise<ImageRecord> => {
    assert.equal((await post(who, '/api/projects', { name: id, id })).status, 201);
    const r = await as(who, `/api/projects/${id}/images?name=img`, {
      method: 'POST',
      headers: { 'Content-Type': 'image/tiff' },
      body: Buffer.from(syntheticTiff(96, 2).bytes),
    });
    assert.equal(r.status, 201, await r.clone().text());
    const image = (await r.json()) as ImageRecord;
    for (const cls of [1, 2]) {
      const s = await post(who, `/api/images/${image.id}/strokes`, {
        drawing: line(10, 10 + cls * 30, 80, 20 + cls * 30, cls),
      });
      assert.equal(s.status, 201);
    }
    return image;
  };
  return { accounts, tokens, as, post, projectWithStrokes };
}

describe('multi-user bridge: fair sharing of the machine', () => {
  let t: TestBridge;
  let api: Awaited<ReturnType<typeof setUp>>;
  before(async () => {
    t = await startTestBridge({ users: { quotaBytes: 200 * 1024 }, maxJobs: 2 });
    api = await setUp(t, ['alice', 'bob', 'carol']);
  });
  after(async () => {
    await t.stop();
  });

  it('runs one training per account, at most --max-jobs at once, and tells the waiting their place', async () => {
    const imageOf: Record<string, ImageRecord> = {};
    for (const [who, id] of [
      ['alice', 'a1'],
      ['alice', 'a2'],
      ['bob', 'b1'],
      ['carol', 'c1'],
    ] as const)
      imageOf[id] = await api.projectWithStrokes(who, id);
    const train = async (who: string, project: string) => {
      const r = await api.post(who, `/api/projects/${project}/train`, ENDLESS);
      assert.equal(r.status, 202, `${who} ${project}: ${r.status} ${await r.clone().text()}`);
      return (await r.json()) as JobRecord;
    };
    const job = async (who: string, id: string) => (await (await api.as(who, `/api/jobs/${id}`)).json()) as JobRecord;
    const a1 = await train('alice', 'a1');
    assert.equal(a1.status, 'running');
    const a2 = await train('alice', 'a2');
    assert.equal(a2.status, 'queued', "alice's second training waits for her first");
    assert.equal(a2.author, 'alice');
    const b1 = await train('bob', 'b1');
    assert.equal(b1.status, 'running', 'bob is not held back by alice');
    const c1 = await train('carol', 'c1');
    assert.equal(c1.status, 'queued', 'two jobs run: the machine is full');
    assert.equal((await job('alice', a2.id)).progress.position, 1);
    assert.equal((await job('carol', c1.id)).progress.position, 2);
    // Alice stops her first: her second starts, carol moves up.
    assert.equal((await api.as('alice', `/api/jobs/${a1.id}`, { method: 'DELETE' })).status, 202);
    await waitFor(async () => (await job('alice', a2.id)).status === 'running', {
      timeoutMs: 30_000,
      what: "alice's second training to start",
    });
    assert.equal((await job('carol', c1.id)).status, 'queued');
    assert.equal((await job('carol', c1.id)).progress.position, 1);
    // Another account's job is not carol's to see.
    assert.equal((await api.as('carol', `/api/jobs/${a2.id}`)).status, 404);
    // Carol's Fiji macro stops her training while it still waits in line.
    const stop = await fetch(`${t.bridge.url}/t/${api.tokens.carol}/fiji/stop?image=${imageOf.c1!.id}&id=stop1`);
    assert.match(await stop.text(), new RegExp(`ok=1\njob=${c1.id}`));
    assert.equal((await job('carol', c1.id)).status, 'cancelled');
    for (const [who, id] of [
      ['alice', a2.id],
      ['bob', b1.id],
    ] as const) {
      await api.as(who, `/api/jobs/${id}`, { method: 'DELETE' });
      await waitFor(async () => !['running', 'queued'].includes((await job(who, id)).status), {
        timeoutMs: 30_000,
        what: `job ${id} to stop`,
      });
    }
  });

  it("refuses an import past the account's quota with 413 naming it, and stores nothing", async () => {
    assert.equal((await api.post('bob', '/api/projects', { name: 'q', id: 'q1' })).status, 201);
    const upload = () =>
      api.as('bob', '/api/projects/q1/images?name=more', {
        method: 'POST',
        headers: { 'Content-Type': 'image/tiff' },
        body: Buffer.from(syntheticTiff(256, 3).bytes),
      });
    // A 256 x 256 x 2 image of 16 bits may take 341 KB with its pyramid: more than bob's 200 KB.
    const r = await upload();
    assert.equal(r.status, 413, await r.clone().text());
    assert.match(
      await r.text(),
      /may take up to 341\.3 KB; bob has [\d.]+ KB of the 200\.0 KB quota in use \(--quota-gb\)/,
    );
    const images = (await (await api.as('bob', '/api/projects/q1')).json()) as { images: unknown[] };
    assert.equal(images.images.length, 0);
  });
});

describe('multi-user bridge: work sessions expire', () => {
  let t: TestBridge;
  let api: Awaited<ReturnType<typeof setUp>>;
  before(async () => {
    // Sessions of 4 s, warned 2 s before their end.
    t = await startTestBridge({ users: { sessions: { hours: 4 / 3600, warnMinutes: 2 / 60, tickMs: 100 } } });
    api = await setUp(t, ['alice']);
  });
  after(async () => {
    await t.stop();
  });

  it('warns over WebSocket, ends the session with its jobs, and restores it with its data', async () => {
    const session = ((await (await api.as('alice', '/session', { method: 'POST' })).json()) as { session_id: string })
      .session_id;
    const listed = (await (await api.as('alice', '/session')).json()) as Record<string, { project: string }>;
    const project = listed[session]!.project;
    const r = await api.as('alice', `/api/projects/${project}/images?name=img`, {
      method: 'POST',
      headers: { 'Content-Type': 'image/tiff' },
      body: Buffer.from(syntheticTiff(96, 2).bytes),
    });
    const image = (await r.json()) as ImageRecord;
    const viewer = await TestClient.join(t.bridge, image.id, 'viewer', undefined, {
      Authorization: `Bearer ${api.tokens.alice}`,
    });
    for (const cls of [1, 2]) {
      await api.post('alice', `/api/images/${image.id}/strokes`, {
        drawing: line(10, 10 + cls * 30, 80, 20 + cls * 30, cls),
      });
    }
    const job = (await (await api.post('alice', `/api/projects/${project}/train`, ENDLESS)).json()) as JobRecord;
    const warning = await viewer.next((m) => m.type === 'session' && m.state === 'expiring', 15_000, 'session');
    assert.equal(warning.session, session);
    await viewer.next((m) => m.type === 'session' && m.state === 'ended', 15_000, 'session');
    await waitFor(
      async () => ((await (await api.as('alice', `/api/jobs/${job.id}`)).json()) as JobRecord).status === 'cancelled',
      { timeoutMs: 30_000, what: 'the training of the ended session to be cancelled' },
    );
    assert.equal((await api.as('alice', '/session/details')).status, 404);
    viewer.close();
    const restored = await api.as('alice', `/session/restore?session_id=${session}`, { method: 'POST' });
    assert.equal(restored.status, 200);
    const strokes = (await (await api.as('alice', `/api/images/${image.id}/strokes`)).json()) as { entries: unknown[] };
    assert.equal(strokes.entries.length, 2, 'its strokes are all there');
  });
});
