import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type LogEntry, PROTOCOL_VERSION } from '@impartial/shared';
import FetchStore from '@zarrita/storage/fetch';
import * as zarr from 'zarrita';
import { line, projectWithImage, startTestBridge, type TestBridge, TestClient } from '../helpers/bridge.js';
import { waitFor } from '../helpers/wait.js';

describe('bridge live sync over real WebSockets', () => {
  let t: TestBridge;
  let image: string;
  before(async () => {
    t = await startTestBridge();
    image = (await projectWithImage(t, 96, 1)).id;
  });
  after(async () => {
    await t.stop();
  });

  it("two clients see each other's strokes in the same order, each acknowledged with its ref", async () => {
    const a = await TestClient.join(t.bridge, image, 'alice');
    const b = await TestClient.join(t.bridge, image, 'bob');
    for (let k = 0; k < 20; k++) {
      a.send({ type: 'draw', ref: `a${k}`, drawing: line(5, k * 4, 40, k * 4, 1, 2) });
      b.send({ type: 'draw', ref: `b${k}`, drawing: line(50, k * 4, 90, k * 4, 2, 2) });
    }
    const entries = (c: TestClient) => c.of('entry').map((m) => m.entry);
    await a.next(() => entries(a).length >= 40);
    await b.next(() => entries(b).length >= 40);
    const seqA = entries(a).map((e) => e.seq),
      seqB = entries(b).map((e) => e.seq);
    assert.deepEqual(seqA, seqB, 'both clients saw the log in one order');
    assert.deepEqual(
      seqA,
      [...seqA].sort((x, y) => x - y),
      'in sequence order',
    );
    assert.deepEqual(
      entries(a).map((e) => e.author),
      entries(b).map((e) => e.author),
    );
    assert.equal(
      a.of('entry').filter((m) => m.ref?.startsWith('a')).length,
      20,
      'alice got an ack for each of her strokes',
    );
    assert.equal(a.of('entry').filter((m) => m.ref?.startsWith('b')).length, 0, "and never bob's refs");
    assert.equal(b.of('entry').filter((m) => m.ref?.startsWith('b')).length, 20);
    a.close();
    b.close();
  });

  it('a reconnecting client gets what it missed, and undo/redo reach everyone', async () => {
    const a = await TestClient.join(t.bridge, image, 'carol');
    const welcome = a.of('welcome')[0]!;
    const seen = welcome.seq;
    a.close();
    const b = await TestClient.join(t.bridge, image, 'dave');
    b.send({ type: 'draw', ref: 'd1', drawing: line(10, 10, 20, 20) });
    b.send({ type: 'draw', ref: 'd2', drawing: line(30, 30, 40, 40, 2) });
    b.send({ type: 'undo', ref: 'u1' });
    const undo = await b.next((m) => m.type === 'entry' && m.ref === 'u1', 10_000, 'entry');
    assert.equal(undo.entry.op, 'undo');
    const again = await TestClient.join(t.bridge, image, 'carol', seen);
    const missed = again.of('welcome')[0]!.entries;
    assert.deepEqual(
      missed.map((e: LogEntry) => e.op),
      ['add', 'add', 'undo'],
      'exactly the three entries after its last seq',
    );
    assert.equal(missed[0]!.seq, seen + 1);
    const undone = missed[2]! as Extract<LogEntry, { op: 'undo' }>;
    assert.equal(undone.target, missed[1]!.seq, "undo switched off dave's latest drawing");
    b.send({ type: 'redo', ref: 'r1' });
    const redo = await again.next((m) => m.type === 'entry' && m.entry.op === 'redo', 10_000, 'entry');
    assert.equal((redo.entry as Extract<LogEntry, { op: 'redo' }>).target, missed[1]!.seq);
    again.send({ type: 'undo', ref: 'nothing' });
    const err = await again.next((m) => m.type === 'error' && m.ref === 'nothing', 10_000, 'error');
    assert.equal(err.code, 'conflict', 'carol has nothing of her own to undo');
    b.close();
    again.close();
  });

  it('a drawing sent again with the same ref (its acknowledgement was lost) is saved once', async () => {
    const a = await TestClient.join(t.bridge, image, 'erin');
    const b = await TestClient.join(t.bridge, image, 'frank');
    a.send({ type: 'draw', ref: 'once', drawing: line(10, 60, 30, 60) });
    const first = await a.next((m) => m.type === 'entry' && m.ref === 'once', 10_000, 'entry');
    assert.equal(first.entry.ref, 'once', "the entry keeps the sender's ref");
    // The connection drops before the ack arrives: the client reconnects and sends it again.
    const again = await TestClient.join(t.bridge, image, 'erin', first.entry.seq - 1);
    assert.equal(again.of('welcome')[0]!.entries[0]!.ref, 'once', 'the welcome shows which refs are saved');
    again.send({ type: 'draw', ref: 'once', drawing: line(10, 60, 30, 60) });
    const second = await again.next((m) => m.type === 'entry' && m.ref === 'once', 10_000, 'entry');
    assert.equal(second.entry.seq, first.entry.seq, 'acknowledged with the entry it already made');
    // Another author may use the same ref: that is a new drawing.
    b.send({ type: 'draw', ref: 'once', drawing: line(10, 70, 30, 70) });
    const other = await b.next((m) => m.type === 'entry' && m.ref === 'once', 10_000, 'entry');
    assert.equal(other.entry.seq, first.entry.seq + 1, 'nothing was appended in between');
    // Over HTTP too: a retried POST with a ref returns the same entry (200, not 201).
    const post = () =>
      t.api(`/api/images/${image}/strokes`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ drawing: line(10, 80, 30, 80), author: 'script', ref: 'r-1' }),
      });
    const p1 = await post(),
      p2 = await post();
    assert.deepEqual([p1.status, p2.status], [201, 200]);
    assert.equal(((await p1.json()) as LogEntry).seq, ((await p2.json()) as LogEntry).seq);
    a.close();
    b.close();
    again.close();
  });

  it('derives labels/scribbles from the log, readable as OME-Zarr over HTTP', async () => {
    // An image of its own: no other test's stroke can reach the pixels looked at here.
    const image = (await projectWithImage(t, 96, 2)).id;
    const c = await TestClient.join(t.bridge, image, 'erin');
    c.send({ type: 'draw', ref: 'e1', drawing: { op: 'add', class: 2, width: 5, points: [[80, 80]] } });
    await c.next((m) => m.type === 'entry' && m.ref === 'e1');
    c.send({ type: 'draw', ref: 'e2', drawing: { op: 'erase', class: 1, width: 3, points: [[80, 80]] } });
    await c.next((m) => m.type === 'entry' && m.ref === 'e2');
    await t.bridge.settle();
    const store = new FetchStore(`${t.bridge.url}/zarr/images/${image}`, {
      overrides: { headers: { Authorization: `Bearer ${t.bridge.token}` } },
    });
    const arr = await zarr.open.v2(zarr.root(store).resolve('labels/scribbles/0'), { kind: 'array' });
    const got = (await zarr.get(arr, [zarr.slice(76, 85), zarr.slice(76, 85)])) as { data: Uint8Array };
    const at = (x: number, y: number) => got.data[(y - 76) * 9 + (x - 76)];
    assert.equal(at(80, 80), 0, 'the eraser (radius 1.5) cleared the centre');
    assert.equal(at(79, 79), 0);
    assert.equal(at(78, 80), 2, 'the background dab (radius 2.5) remains around it');
    assert.equal(at(81, 80), 2);
    assert.equal(at(83, 80), 0, 'nothing beyond the brush');
    c.close();
  });

  it('forwards view state to the other clients (follow mode)', async () => {
    const a = await TestClient.join(t.bridge, image, 'frank');
    const b = await TestClient.join(t.bridge, image, 'gina');
    a.send({
      type: 'view',
      view: { x: 40, y: 50, zoom: 1.5, channel: 1, layers: { entropy: { visible: true, opacity: 0.4 } } },
    });
    const v = await b.next((m) => m.type === 'view', 10_000, 'view');
    assert.equal(v.name, 'frank');
    assert.deepEqual([v.view.x, v.view.y, v.view.zoom], [40, 50, 1.5]);
    assert.equal(a.of('view').length, 0, 'the sender does not get its own view back');
    const c = await TestClient.join(t.bridge, image, 'hal');
    assert.equal(
      c.of('welcome')[0]!.views.find((x) => x.name === 'frank')?.view.x,
      40,
      'a new client learns the current views',
    );
    a.close();
    b.close();
    c.close();
  });

  it('refuses a protocol mismatch with a clear error, and messages before hello', async () => {
    const c = await TestClient.open(t.bridge);
    c.send({ type: 'draw', drawing: line(1, 1, 2, 2) });
    const early = await c.next((m) => m.type === 'error', 5000, 'error');
    assert.match(early.message, /hello/);
    c.send({ type: 'hello', protocol: PROTOCOL_VERSION + 1, client: 'viewer', image });
    const err = await c.next((m) => m.type === 'error' && m.code === 'protocol-mismatch', 5000, 'error');
    assert.match(err.message, new RegExp(`protocol ${PROTOCOL_VERSION}`));
    const closed = await waitFor(() => c.closed, { timeoutMs: 5000, what: 'the bridge to close the connection' });
    assert.equal(closed.code, 4002);
  });
});
