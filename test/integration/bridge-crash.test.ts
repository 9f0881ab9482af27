import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { JobRecord, LogEntry, ProjectRecord } from '@impartial/shared';
import { drawCellAndBackground, line, syntheticTiff, TestClient, TINY_TRAINING } from '../helpers/bridge.js';
import { killHard, type ServeProcess, serveProcess } from '../helpers/serve.js';

const TOKEN = 'crash-test-token';

const serve = (data: string) => serveProcess(data, TOKEN);

const api = (url: string, p: string, init: RequestInit = {}) =>
  fetch(`${url}${p}`, {
    ...init,
    headers: {
      Authorization: `Bearer ${TOKEN}`,
      'Content-Type': 'application/json',
      ...(init.headers as Record<string, string> | undefined),
    },
  });

/** Project c with one uploaded 96 x 96 image on a running bridge; the image's id. */
async function imageOn(s: ServeProcess): Promise<string> {
  await api(s.url, '/api/projects', { method: 'POST', body: JSON.stringify({ name: 'crash', id: 'c' }) });
  const up = await api(s.url, '/api/projects/c/images?name=a', {
    method: 'POST',
    headers: { 'Content-Type': 'image/tiff' },
    body: Buffer.from(syntheticTiff(96, 4).bytes),
  });
  assert.equal(up.status, 201, await up.clone().text());
  return ((await up.json()) as { id: string }).id;
}

describe('bridge after kill -9', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'impartial-crash-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loses no acknowledged stroke when killed during a burst', async () => {
    const data = path.join(dir, 'burst');
    const s = await serve(data);
    const image = await imageOn(s);
    const c = await TestClient.join(s.bridge, image, 'burst');
    for (let k = 0; k < 2000; k++)
      c.send({ type: 'draw', ref: `k${k}`, drawing: line(k % 90, 5, (k * 7) % 90, 80, 1 + (k % 2), 2) });
    const ackedNow = () => c.of('entry').filter((m) => m.ref !== undefined);
    await c.next(() => ackedNow().length >= 60, 30_000);
    await killHard(s.child);
    const acked = new Map<number, LogEntry>(ackedNow().map((m) => [m.entry.seq, m.entry]));
    assert.ok(acked.size < 2000, `killed mid-burst (${acked.size} of 2000 acknowledged)`);

    const again = await serve(data);
    const r = await api(again.url, `/api/images/${image}/strokes`);
    const stored = ((await r.json()) as { entries: LogEntry[] }).entries;
    const bySeq = new Map(stored.map((e) => [e.seq, e]));
    for (const [seq, e] of acked) assert.deepEqual(bySeq.get(seq), e, `acknowledged stroke ${seq} survived as it was`);
    assert.deepEqual(
      stored.map((e) => e.seq),
      stored.map((_, i) => i + 1),
      'the log has no holes',
    );
    await killHard(again.child);
  });

  it('keeps the last good model and marks the running training failed', async () => {
    const data = path.join(dir, 'training');
    let s = await serve(data);
    const image = await imageOn(s);
    const c = await TestClient.join(s.bridge, image, 'trainer');
    await drawCellAndBackground(c);
    c.send({ type: 'train-start', ref: 'a', options: TINY_TRAINING });
    const first = await c.next((m) => m.type === 'model', 120_000, 'model');
    c.send({ type: 'train-start', ref: 'b', options: { steps: 1_000_000, batchSize: 2, patch: 32 } });
    const long = await c.next((m) => m.type === 'job' && m.ref === 'b', 10_000, 'job');
    await c.next((m) => m.type === 'train-progress' && m.job === long.job.id, 60_000);
    await killHard(s.child);

    s = await serve(data);
    const job = (await (await api(s.url, `/api/jobs/${long.job.id}`)).json()) as JobRecord;
    assert.equal(job.status, 'failed');
    assert.match(job.error ?? '', /stopped while this job was/);
    const project = (await (await api(s.url, '/api/projects/c')).json()) as ProjectRecord & { models: unknown[] };
    assert.equal(project.currentModel, first.model.id, 'the last good model is still current');
    assert.equal(project.models.length, 1, 'no half-written model version');
    const files = await api(s.url, `/api/models/${first.model.id}/files/weights.bin`);
    assert.equal(files.status, 200);
    assert.ok((await files.arrayBuffer()).byteLength > 100);
    // And the bridge works on: a new training runs from the current model.
    const c2 = await TestClient.join(s.bridge, image, 'after');
    c2.send({ type: 'train-start', ref: 'c', options: { steps: 2, batchSize: 2, patch: 32 } });
    const next = await c2.next((m) => m.type === 'model', 120_000, 'model');
    assert.equal(next.model.parent, first.model.id);
    c2.close();
    await killHard(s.child);
  });
});
