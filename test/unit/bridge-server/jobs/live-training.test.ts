import assert from 'node:assert/strict';
import { it } from 'node:test';
import { LIVE_VIEW_SIDE, LiveInbox, liveViewport } from '@impartial/bridge-server';
import type { DrawEntry } from '@impartial/shared';

const stroke = (seq: number): DrawEntry => ({
  op: 'add',
  class: 1,
  width: 3,
  points: [
    [0, 0],
    [5, 5],
  ],
  seq,
  author: 'a',
  t: 0,
});

it("keeps the newest strokes of each image, whatever order the bridge's reads ended in", () => {
  const inbox = new LiveInbox('viewed');
  inbox.take({ type: 'strokes', image: 'viewed', seq: 5, drawings: [stroke(5)] });
  inbox.take({ type: 'strokes', image: 'viewed', seq: 3, drawings: [stroke(3)] });
  inbox.take({ type: 'strokes', image: 'other', seq: 1, drawings: [] });
  const taken = inbox.takeStrokes();
  assert.deepEqual([...taken.keys()], ['viewed', 'other']);
  assert.equal(taken.get('viewed')!.seq, 5, 'an older state arriving late changes nothing');
  assert.equal(inbox.takeStrokes().size, 0, 'taken once');
});

it('takes view moves of its own image only, and the latest one', () => {
  const inbox = new LiveInbox('viewed');
  inbox.take({ type: 'view', image: 'other', viewport: { x: 0, y: 0, width: 9, height: 9 } });
  assert.equal(inbox.takeView(), null);
  inbox.take({ type: 'view', image: 'viewed', viewport: { x: 1, y: 1, width: 9, height: 9 } });
  inbox.take({ type: 'view', image: 'viewed', viewport: { x: 2, y: 2, width: 9, height: 9 } });
  assert.deepEqual(inbox.takeView(), { x: 2, y: 2, width: 9, height: 9 });
  assert.equal(inbox.takeView(), null);
  inbox.take({ type: 'finish' });
  assert.equal(inbox.finished, true);
});

it('wakes a thread waiting for strokes at the next message, and gives up after its time', async () => {
  const inbox = new LiveInbox('viewed');
  const waiting = inbox.next(60_000);
  inbox.take({ type: 'strokes', image: 'viewed', seq: 1, drawings: [stroke(1)] });
  await waiting;
  const started = performance.now();
  await inbox.next(20);
  assert.ok(performance.now() - started < 5_000);
});

it('predicts the middle of a zoomed-out view, clipped to the image', () => {
  const slide = { width: 20000, height: 20000 };
  assert.deepEqual(liveViewport({ x: 0, y: 0, width: 20000, height: 20000 }, slide), {
    x: 9488,
    y: 9488,
    width: LIVE_VIEW_SIDE,
    height: LIVE_VIEW_SIDE,
  });
  const small = { width: 300, height: 200 };
  assert.deepEqual(liveViewport({ x: 250, y: 150, width: 500, height: 500 }, small), {
    x: 250,
    y: 150,
    width: 50,
    height: 50,
  });
  assert.deepEqual(liveViewport({ x: 900, y: 900, width: 10, height: 10 }, small), {
    x: 299,
    y: 199,
    width: 1,
    height: 1,
  });
});
