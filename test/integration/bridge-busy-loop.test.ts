import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type Drawing,
  type ErrorBody,
  type ImageRecord,
  MAX_STROKE_PIXELS,
  MAX_STROKE_WIDTH,
  strokeArea,
} from '@impartial/shared';
import { projectWithImage, startTestBridge, type TestBridge } from '../helpers/bridge.js';

/*
 * Strokes and outlines that used to freeze the bridge (painting and outline conversion ran on the
 * event loop, in time growing faster than the stroke): now they are painted in a worker, capped
 * in size, and GET /api/info keeps answering while they are processed.
 */

/** GET /api/info's worst latency while `work` runs (polled back to back until it settles). */
async function worstInfoLatency(t: TestBridge, work: Promise<unknown>): Promise<number> {
  let done = false;
  const settled = work.finally(() => {
    done = true;
  });
  let worst = 0;
  do {
    const t0 = performance.now();
    assert.equal((await t.api('/api/info')).status, 200);
    worst = Math.max(worst, performance.now() - t0);
  } while (!done);
  await settled;
  return worst;
}

/** A generous bound: the event loop answers well under a second (the figures are in `npm run bench`). */
const RESPONSIVE_MS = 1000;

/** A zigzag across the image: long diagonal segments, the worst case of the old painter. */
function zigzag(size: number, points: number, width: number): Drawing {
  const pts = Array.from({ length: points }, (_, i) => [i % 2 ? size - 1 : 0, (i * size) / points] as [number, number]);
  return { op: 'add', class: 1, width, points: pts };
}

describe('no stroke or outline holds up the bridge', () => {
  let t: TestBridge;
  let image: ImageRecord;
  before(async () => {
    t = await startTestBridge();
    image = await projectWithImage(t, 2048, 3);
  });
  after(async () => {
    await t.stop();
  });

  const post = (drawing: Drawing) =>
    t.api(`/api/images/${image.id}/strokes`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ drawing }),
    });
  const rss = () => process.memoryUsage().rss / 1024 ** 2;

  /** The longest zigzag of the widest brush over 2048 x 2048 within the cap, and one point more. */
  const nearCap = (() => {
    let n = 2;
    while (strokeArea(zigzag(2048, n + 1, MAX_STROKE_WIDTH).points, MAX_STROKE_WIDTH) <= MAX_STROKE_PIXELS) n++;
    return { under: zigzag(2048, n, MAX_STROKE_WIDTH), over: zigzag(2048, n + 1, MAX_STROKE_WIDTH) };
  })();

  it('a stroke just under the pixel cap is stored at once and painted off the event loop, and its undo', async (c) => {
    // Painted on the event loop, this stroke would hold every request for seconds (about 3 s here).
    const before = rss();
    const stored = post(nearCap.under);
    // Written to labels/scribbles by the worker; settle() waits for that.
    const worst = await worstInfoLatency(
      t,
      stored.then(() => t.bridge.settle()),
    );
    assert.equal((await stored).status, 201);
    assert.ok(worst < RESPONSIVE_MS, `GET /api/info took ${worst.toFixed(0)} ms while the stroke was painted`);
    // Undoing a later dab rebuilds the raster: the big stroke is painted again.
    assert.equal((await post({ op: 'add', class: 2, width: 3, points: [[5, 5]] })).status, 201);
    const undo = t.api(`/api/images/${image.id}/undo`, { method: 'POST', body: '{}' });
    const worstUndo = await worstInfoLatency(
      t,
      undo.then(() => t.bridge.settle()),
    );
    assert.equal((await undo).status, 201);
    assert.ok(worstUndo < RESPONSIVE_MS, `GET /api/info took ${worstUndo.toFixed(0)} ms during the undo`);
    assert.ok(rss() - before < 500, `the bridge grew by ${(rss() - before).toFixed(0)} MB`);
    const points = nearCap.under.points.length;
    c.diagnostic(
      `worst GET /api/info: ${worst.toFixed(0)} ms (${points}-point stroke), ${worstUndo.toFixed(0)} ms (undo)`,
    );
  });

  it('a stroke over the pixel cap is refused before it is stored, naming the cap', async () => {
    const { seq } = (await (await t.api(`/api/images/${image.id}/strokes`)).json()) as { seq: number };
    const r = await post(nearCap.over);
    const body = (await r.json()) as ErrorBody;
    assert.equal(r.status, 413, JSON.stringify(body));
    const points = nearCap.over.points.length;
    assert.match(
      body.error.message,
      new RegExp(`a stroke may cover at most ${MAX_STROKE_PIXELS} pixels; this one \\(${points} points, width 512\\)`),
    );
    const after = (await (await t.api(`/api/images/${image.id}/strokes`)).json()) as { seq: number };
    assert.equal(after.seq, seq, 'nothing was added to the log');
  });

  const fijiOutline = (id: string, points: Array<[number, number]>) => {
    const data = encodeURIComponent(`outline|1|1|${points.map((p) => p.join(',')).join(';')}`);
    return t.api(`/fiji/stroke?image=${image.id}&id=${id}&i=0&n=1&d=${data}`);
  };
  const square = (x: number, y: number, side: number): Array<[number, number]> => [
    [x, y],
    [x + side, y],
    [x + side, y + side],
    [x, y + side],
  ];

  it('an outline the size of a large cell is converted off the event loop', async (c) => {
    const sent = fijiOutline('big-cell', square(100, 100, 400));
    const worst = await worstInfoLatency(t, sent);
    const reply = await (await sent).text();
    assert.match(reply, /complete=1/, reply);
    assert.ok(worst < RESPONSIVE_MS, `GET /api/info took ${worst.toFixed(0)} ms while the outline was converted`);
    c.diagnostic(`worst GET /api/info: ${worst.toFixed(0)} ms (400 x 400 outline)`);
  });

  it('an outline over the area cap is refused, naming the cap', async () => {
    const r = await fijiOutline('huge', square(0, 0, 1024));
    const reply = await r.text();
    assert.equal(r.status, 413, reply);
    assert.match(reply, /error=outline 1 spans \d+ pixels; one outline may span at most \d+/);
  });
});
