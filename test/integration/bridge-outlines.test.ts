// Outlines drawn in a viewer (the `outline` WebSocket message): stored as ImPartial reads them
// (cell skeleton and inner ring, border as background), undone and redone as one, sent again safely.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LogEntry } from '@impartial/shared';
import FetchStore from '@zarrita/storage/fetch';
import * as zarr from 'zarrita';
import { projectWithImage, startTestBridge, type TestBridge, TestClient } from '../helpers/bridge.js';

/** A 24 x 16 rectangle's corners from (30, 30). */
const BOX: Array<[number, number]> = [
  [30, 30],
  [54, 30],
  [54, 46],
  [30, 46],
];

describe('outlines from a viewer over WebSocket', () => {
  let t: TestBridge;
  before(async () => {
    t = await startTestBridge();
  });
  after(async () => {
    await t.stop();
  });

  async function scribbles(image: string): Promise<(x: number, y: number) => number> {
    await t.bridge.settle();
    const store = new FetchStore(`${t.bridge.url}/zarr/images/${image}`, {
      overrides: { headers: { Authorization: `Bearer ${t.bridge.token}` } },
    });
    const arr = await zarr.open.v2(zarr.root(store).resolve('labels/scribbles/0'), { kind: 'array' });
    const got = (await zarr.get(arr, [zarr.slice(0, 96), zarr.slice(0, 96)])) as { data: Uint8Array };
    return (x, y) => got.data[y * 96 + x]!;
  }

  const count = (at: (x: number, y: number) => number, cls: number) => {
    let n = 0;
    for (let y = 0; y < 96; y++) for (let x = 0; x < 96; x++) n += at(x, y) === cls ? 1 : 0;
    return n;
  };

  it('an outline becomes cell strokes inside and background on its border, sharing the sender ref', async () => {
    const image = (await projectWithImage(t, 96, 3)).id;
    const a = await TestClient.join(t.bridge, image, 'olga');
    const b = await TestClient.join(t.bridge, image, 'pete');
    a.send({ type: 'outline', ref: 'o1', outline: { points: BOX } });
    await a.next((m) => m.type === 'entry' && m.ref === 'o1', 10_000, 'entry');
    await b.next(() => b.of('entry').length >= 3, 10_000);
    const entries = a.of('entry').map((m) => m.entry);
    assert.ok(entries.length >= 3, `skeleton, ring and border: ${entries.length} entries`);
    assert.ok(
      entries.every((e) => e.ref === 'o1' && e.author === 'olga'),
      'every entry carries the ref',
    );
    assert.deepEqual(
      b.of('entry').map((m) => m.entry.seq),
      entries.map((e) => e.seq),
      'the other viewer got the same entries',
    );
    assert.ok(
      b.of('entry').every((m) => m.ref === undefined),
      "and not olga's acknowledgement",
    );
    const at = await scribbles(image);
    assert.equal(at(42, 37), 1, 'the skeleton through the middle of the cell is cell');
    assert.equal(at(32, 38), 1, 'so is the ring 2 px inside the border');
    assert.equal(at(35, 38), 0, 'between them, nothing: the net fills that in');
    assert.equal(at(30, 38), 2, 'its left border is background');
    assert.equal(at(53, 38), 2, 'its right border is background');
    assert.equal(at(42, 30), 2, 'its top border is background');
    assert.equal(at(20, 20), 0, 'outside, nothing');
    assert.equal(at(58, 38), 0);
    a.close();
    b.close();
  });

  it('one undo switches the whole outline off, one redo back on; a resent outline adds nothing', async () => {
    const image = (await projectWithImage(t, 96, 4)).id;
    const a = await TestClient.join(t.bridge, image, 'quinn');
    a.send({ type: 'draw', ref: 'd1', drawing: { op: 'add', class: 2, width: 3, points: [[80, 80]] } });
    await a.next((m) => m.type === 'entry' && m.ref === 'd1', 10_000, 'entry');
    a.send({ type: 'outline', ref: 'o2', outline: { points: BOX } });
    await a.next((m) => m.type === 'entry' && m.ref === 'o2', 10_000, 'entry');
    await a.next(() => a.of('entry').filter((m) => m.entry.ref === 'o2').length >= 3, 10_000);
    const parts = a
      .of('entry')
      .map((m) => m.entry)
      .filter((e) => e.ref === 'o2');
    const before = await scribbles(image);
    const outlined = count(before, 1);
    assert.ok(outlined > 0);

    // Sent again (its acknowledgement lost): the same entries come back to the sender, nothing is added.
    const seen = a.of('entry').length;
    a.send({ type: 'outline', ref: 'o2', outline: { points: BOX } });
    await a.next(() => a.of('entry').length >= seen + parts.length, 10_000);
    const again = a
      .of('entry')
      .slice(seen)
      .map((m) => m.entry.seq);
    assert.deepEqual(
      again,
      parts.map((e) => e.seq),
    );
    const log = (await (await t.api(`/api/images/${image}/strokes`)).json()) as { seq: number; entries: LogEntry[] };
    assert.equal(log.entries.length, 1 + parts.length, 'the log holds the dab and one copy of the outline');

    a.send({ type: 'undo', ref: 'u1' });
    await a.next(() => a.of('entry').filter((m) => m.entry.op === 'undo').length >= parts.length, 10_000);
    const undos = a
      .of('entry')
      .map((m) => m.entry)
      .filter((e): e is Extract<LogEntry, { op: 'undo' }> => e.op === 'undo');
    assert.deepEqual(
      undos.map((e) => e.target).sort((x, y) => x - y),
      parts.map((e) => e.seq),
      'one undo entry for each part of the outline',
    );
    const undone = await scribbles(image);
    assert.equal(count(undone, 1), 0, 'no cell pixel is left');
    assert.equal(undone(80, 80), 2, 'the dab drawn before stays');
    assert.equal(undone(30, 38), 0, 'the border is gone too');

    a.send({ type: 'redo', ref: 'r1' });
    await a.next(() => a.of('entry').filter((m) => m.entry.op === 'redo').length >= parts.length, 10_000);
    assert.equal(count(await scribbles(image), 1), outlined, 'redo brings the whole outline back');

    // Undoing one part by its seq (as the REST API and Fiji may) takes the rest with it.
    const r = await t.api(`/api/images/${image}/undo`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ author: 'quinn', target: parts.at(-1)!.seq }),
    });
    assert.equal(r.status, 201);
    assert.equal(((await r.json()) as { target: number }).target, parts.at(-1)!.seq, 'the answer is the named one');
    assert.equal(count(await scribbles(image), 1), 0);
    a.close();
  });

  it('refuses an outline of two points, and one outside the image, with the sender ref', async () => {
    const image = (await projectWithImage(t, 96, 5)).id;
    const a = await TestClient.join(t.bridge, image, 'rita');
    a.send({ type: 'outline', ref: 'x1', outline: { points: BOX.slice(0, 2) } });
    const bad = await a.next((m) => m.type === 'error', 10_000, 'error');
    assert.equal(bad.code, 'bad-message');
    assert.match(bad.message, /3/);
    a.send({
      type: 'outline',
      ref: 'x2',
      outline: {
        points: [
          [500, 500],
          [520, 500],
          [520, 520],
        ],
      },
    });
    const outside = await a.next((m) => m.type === 'error' && m.ref === 'x2', 10_000, 'error');
    assert.equal(outside.code, 'bad-request');
    assert.match(outside.message, /enclose no pixel/);
    const log = (await (await t.api(`/api/images/${image}/strokes`)).json()) as { entries: LogEntry[] };
    assert.equal(log.entries.length, 0, 'nothing was stored');
    a.close();
  });
});
