// Two bridge nodes behind one address: the same PostgreSQL index, data folder and Redis (all
// started by the test on loopback). One node runs in this process, the other as `impartial serve`
// in a child process, so that it can be killed with SIGKILL.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SYSTEM } from '@impartial/bridge-server';
import type { LogEntry } from '@impartial/shared';
import { line, projectWithImage, startTestBridge, type TestBridge, TestClient } from '../helpers/bridge.js';
import { type Postgres, postgresMissing, startPostgres } from '../helpers/postgres.js';
import { type NodeProcess, spawnNode } from '../helpers/processes.js';
import { type RedisServer, redisMissing, startRedis } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'nodes-test-token';

const seqs = (c: TestClient) => c.of('entry').map((m) => m.entry.seq);
const acked = (c: TestClient) => new Set(c.of('entry').flatMap((m) => (m.ref ? [m.ref] : [])));

describe('two bridge nodes on one database and Redis', { skip: postgresMissing() ?? redisMissing() ?? false }, () => {
  let pg: Postgres;
  let redis: RedisServer;
  let dir: string;
  let a: TestBridge;
  let b: NodeProcess;
  let image: string;
  before(async () => {
    [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
    dir = await mkdtemp(path.join(tmpdir(), 'impartial-nodes-'));
    const database = pg.database('nodes');
    const data = path.join(dir, 'data');
    a = await startTestBridge({ data, database, queue: redis.url, token: TOKEN });
    b = await spawnNode(['--data', data, '--db', database, '--queue', redis.url], TOKEN);
    image = (await projectWithImage(a, 256, 2, 'nodes')).id;
  });
  after(async () => {
    b.child.kill('SIGKILL');
    await a.stop();
    await redis.stop();
    pg.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('gives 2 x 5 clients drawing at once one identical stroke order, each stroke acknowledged once', async () => {
    const clients = await Promise.all(
      Array.from({ length: 10 }, (_, k) => TestClient.join(k < 5 ? a.bridge : b, image, `n${k % 2}c${k}`)),
    );
    for (let s = 0; s < 10; s++) {
      for (const [k, c] of clients.entries()) {
        c.send({ type: 'draw', ref: `c${k}-${s}`, drawing: line(5 + k * 24, 5 + s * 24, 20 + k * 24, 20 + s * 24) });
      }
    }
    for (const c of clients) await c.next(() => seqs(c).length >= 100, 60_000, 'entry');
    const first = seqs(clients[0]!);
    assert.deepEqual(
      first,
      Array.from({ length: 100 }, (_, k) => first[0]! + k),
      'in sequence, no gap',
    );
    for (const [k, c] of clients.entries()) {
      assert.deepEqual(seqs(c), first, `client ${k} saw the one order`);
      assert.deepEqual(
        c.of('entry').map((m) => m.entry.author),
        clients[0]!.of('entry').map((m) => m.entry.author),
      );
      assert.equal(acked(c).size, 10, `client ${k} has an acknowledgement for each of its strokes`);
      assert.ok(
        [...acked(c)].every((r) => r.startsWith(`c${k}-`)),
        'and only for its own',
      );
    }
    for (const c of clients) c.close();
  });

  it('loses no acknowledged stroke when a node is killed; its clients catch up on the other', async () => {
    const onB = await Promise.all([0, 1, 2].map((k) => TestClient.join(b, image, `killed${k}`)));
    const strokes = (k: number) =>
      Array.from({ length: 30 }, (_, s) => ({
        ref: `k${k}-${s}`,
        drawing: line(10 + k * 60, 4 + s * 8, 50 + k * 60, 4 + s * 8, 1 + (s % 2)),
      }));
    for (const [k, c] of onB.entries()) for (const s of strokes(k)) c.send({ type: 'draw', ...s });
    // Killed while they are drawing: some strokes acknowledged, most still to come.
    await onB[0]!.next(() => acked(onB[0]!).size >= 3, 30_000, 'entry');
    b.child.kill('SIGKILL');
    await waitFor(() => onB.every((c) => c.closed), { timeoutMs: 10_000, what: 'the killed node to drop its clients' });
    const ackedBefore = onB.map((c) => acked(c));
    const seenBefore = onB.map((c) => Math.max(c.of('welcome')[0]!.seq, ...seqs(c)));

    // Each client reconnects to the other node from where it was and sends again what it has no
    // acknowledgement for (the same refs: a stroke saved before the kill is not saved twice).
    const again = await Promise.all(onB.map((_, k) => TestClient.join(a.bridge, image, `killed${k}`, seenBefore[k]!)));
    for (const [k, c] of again.entries()) {
      for (const s of strokes(k)) if (!ackedBefore[k]!.has(s.ref)) c.send({ type: 'draw', ...s });
    }
    for (const [k, c] of again.entries()) {
      await c.next(() => ackedBefore[k]!.size + acked(c).size >= 30, 60_000, 'entry');
    }
    const { entries } = await a.bridge.services.strokes.entries(SYSTEM, image);
    const byRef = new Map<string, LogEntry[]>();
    for (const e of entries) if (e.ref) byRef.set(e.ref, [...(byRef.get(e.ref) ?? []), e]);
    for (const [k, before] of ackedBefore.entries()) {
      for (const ref of before)
        assert.equal(byRef.get(ref)?.length, 1, `${ref}, acknowledged before the kill, is saved once`);
      for (const s of strokes(k)) assert.equal(byRef.get(s.ref)?.length, 1, `${s.ref} is saved once`);
    }
    // What a reconnected client holds: the welcome's entries since where it was, then the rest, gapless.
    // A stroke the killed node saved but never acknowledged is in the welcome, and its resend is
    // answered with the same entry again (to the sender only): a client keeps an entry once, by seq.
    for (const [k, c] of again.entries()) {
      const welcome = c.of('welcome')[0]!;
      const held = [...new Set([...welcome.entries.map((e) => e.seq), ...seqs(c)])];
      assert.deepEqual(
        held,
        Array.from({ length: held.length }, (_, i) => seenBefore[k]! + 1 + i),
        `client ${k} caught up without a gap`,
      );
      c.close();
    }
  });
});
