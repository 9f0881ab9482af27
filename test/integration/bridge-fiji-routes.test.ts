import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FIJI_CHUNK_CHARS, readTiff } from '@impartial/shared';
import { line, projectWithImage, startTestBridge, type TestBridge, TestClient } from '../helpers/bridge.js';
import { waitFor } from '../helpers/wait.js';

/** key=value lines as the macro's List.setList reads them. */
function kv(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

describe("bridge Fiji routes (GET only, key=value, idempotent under ImageJ's doubled GETs)", () => {
  let t: TestBridge;
  /** The one image of project p1, for the listings. */
  let image: string;
  /** An image in a project of its own: no other test's strokes, undos or models reach it. */
  const ownImage = async (project: string) => (await projectWithImage(t, 128, 5, project)).id;
  /** Every call is sent twice, as File.openUrlAsString does; the second answer is returned. */
  const get = async (p: string) => {
    const url = `${t.bridge.url}${p}${p.includes('?') ? '&' : '?'}token=${t.bridge.token}`;
    await (await fetch(url)).text();
    const r = await fetch(url);
    return { status: r.status, fields: kv(await r.text()) };
  };
  before(async () => {
    t = await startTestBridge();
    image = (await projectWithImage(t, 128, 5)).id;
  });
  after(async () => {
    await t.stop();
  });

  it('lists projects and images and says hello with a .tif URL of the image', async () => {
    assert.equal((await get('/fiji/projects')).fields.project0, 'p1');
    const images = await get('/fiji/images?project=p1');
    assert.equal(images.fields.count, '1');
    assert.equal(images.fields.id0, image);
    const hello = await get(`/fiji/hello?image=${image}`);
    assert.equal(hello.fields.width, '128');
    assert.match(hello.fields.image_url!, /\.tif$/);
    const tif = await fetch(`${t.bridge.url}${hello.fields.image_url}`);
    const img = await readTiff(await tif.arrayBuffer());
    assert.deepEqual(
      [img.width, img.height, img.channels],
      [128, 128, 2],
      'the URL itself carries the token and opens as a 2-channel stack',
    );
  });

  it('reassembles a chunked stroke once, and a WebSocket client sees it', async () => {
    const image = await ownImage('chunks');
    const ws = await TestClient.join(t.bridge, image, 'web');
    const points = Array.from({ length: 900 }, (_, i) => `${10 + (i % 100)},${20 + Math.floor(i / 100)}`).join(';');
    const text = `add|1|2|${points}`;
    const n = Math.ceil(text.length / FIJI_CHUNK_CHARS);
    assert.ok(n >= 2, 'the stroke needs several chunks');
    let last: Record<string, string> = {};
    for (let i = 0; i < n; i++) {
      const chunk = encodeURIComponent(text.slice(i * FIJI_CHUNK_CHARS, (i + 1) * FIJI_CHUNK_CHARS));
      const r = await get(`/fiji/stroke?image=${image}&id=roi1&i=${i}&n=${n}&name=fiji-user&d=${chunk}`);
      assert.equal(r.status, 200);
      last = r.fields;
    }
    assert.equal(last.complete, '1');
    const seen = await ws.next((m) => m.type === 'entry' && m.entry.author === 'fiji-user', 5000, 'entry');
    assert.equal(seen.entry.op === 'add' && seen.entry.points.length, 900);
    assert.equal(seen.entry.seq, Number(last.seq));
    const log = (await (await t.api(`/api/images/${image}/strokes`)).json()) as { entries: unknown[] };
    assert.equal(log.entries.length, 1, 'added once although every chunk came twice');
    const bad = await get(`/fiji/stroke?image=${image}&id=roi2&i=0&n=1&d=${encodeURIComponent('add|1|2|nonsense')}`);
    assert.equal(bad.status, 400);
    assert.match(bad.fields.error!, /not x,y/);
    ws.close();
  });

  it('takes any number of strokes one after another; only strokes still arriving count against a cap', async (c) => {
    // A bridge of its own: the strokes it leaves in flight would hold up the other tests.
    const own = await startTestBridge();
    c.after(() => own.stop());
    const image = (await projectWithImage(own, 64, 5)).id;
    const once = async (p: string) => {
      const r = await fetch(`${own.bridge.url}${p}&token=${own.bridge.token}`);
      return { status: r.status, fields: kv(await r.text()) };
    };
    // More complete strokes than strokes in flight are allowed (1000): each is added.
    const dab = (k: number) => encodeURIComponent(`add|1|2|${k % 100},${Math.floor(k / 100)}`);
    for (let k = 0; k < 1100; k += 25) {
      const batch = Array.from({ length: 25 }, (_, j) =>
        once(`/fiji/stroke?image=${image}&id=d${k + j}&i=0&n=1&d=${dab(k + j)}`),
      );
      for (const r of await Promise.all(batch)) assert.equal(r.status, 200, JSON.stringify(r.fields));
    }
    const log = (await (await own.api(`/api/images/${image}/strokes`)).json()) as { entries: unknown[] };
    assert.equal(log.entries.length, 1100);
    // Strokes left half sent do count: the 1001st is refused with busy, and nothing of it is kept.
    const half = (id: string) =>
      once(`/fiji/stroke?image=${image}&id=${id}&i=0&n=2&d=${encodeURIComponent('add|1|2|')}`);
    for (let k = 0; k < 1000; k += 50) {
      const batch = Array.from({ length: 50 }, (_, j) => half(`h${k + j}`));
      for (const r of await Promise.all(batch)) assert.equal(r.fields.complete, '0');
    }
    const refused = await half('h1000');
    assert.equal(refused.status, 429);
    assert.equal(refused.fields.code, 'busy');
    assert.match(refused.fields.error!, /too many strokes in flight/);
    // Finishing one in flight makes room again.
    const rest = encodeURIComponent('5,5;6,6');
    assert.equal((await once(`/fiji/stroke?image=${image}&id=h0&i=1&n=2&d=${rest}`)).fields.complete, '1');
    assert.equal((await half('h1000')).status, 200);
  });

  it("long-polls events as key=value with a cursor, skipping the caller's own strokes", async () => {
    const image = await ownImage('polls');
    const hello = await get(`/fiji/hello?image=${image}`);
    const cursor = Number(hello.fields.cursor);
    const ws = await TestClient.join(t.bridge, image, 'painter');
    // With flush=1 the headers come at once: once they are here, the bridge is waiting for an event.
    const poll = await fetch(
      `${t.bridge.url}/fiji/events?image=${image}&since=${cursor}&timeout=5000&flush=1&me=fiji-user` +
        `&token=${t.bridge.token}`,
    );
    assert.equal(poll.status, 200, 'the poll is open: flush=1 sends its headers at once');
    ws.send({ type: 'draw', ref: 'w', drawing: line(1, 2, 30, 40, 2, 3) });
    const ev = kv(await poll.text());
    assert.equal(ev.type, 'stroke');
    assert.equal(ev.author, 'painter');
    assert.equal(ev.class, '2');
    assert.equal(ev.points, '1,2;30,40');
    assert.equal(Number(ev.seq), cursor + 1);
    const again = await get(`/fiji/events?image=${image}&since=${cursor}&timeout=0`);
    assert.equal(again.fields.seq, ev.seq, 'the same cursor gives the same event (doubled GETs are harmless)');
    const empty = await fetch(
      `${t.bridge.url}/fiji/events?image=${image}&since=${ev.seq}&timeout=200&token=${t.bridge.token}`,
    );
    assert.equal(await empty.text(), '', 'nothing new: an empty body after the timeout');
    const reset = await get(`/fiji/events?image=${image}&since=999999&timeout=0`);
    assert.equal(reset.fields.type, 'reset', 'a cursor from before a restart');
    ws.close();
  });

  it('syncs the view both ways and undoes once per id', async () => {
    const image = await ownImage('views');
    const ws = await TestClient.join(t.bridge, image, 'viewer');
    // fiji-user's own stroke, for its undo below.
    const stroke = await get(
      `/fiji/stroke?image=${image}&id=s1&i=0&n=1&name=fiji-user&d=${encodeURIComponent('add|1|2|10,10;20,20')}`,
    );
    assert.equal(stroke.fields.complete, '1');
    const r = await get(
      `/fiji/view?image=${image}&name=fiji-user&x=64&y=32&zoom=2&channel=1&slice=0&ax=0&ay=0&aw=128&ah=64`,
    );
    assert.equal(r.fields.ok, '1');
    const v = await ws.next((m) => m.type === 'view', 5000, 'view');
    assert.deepEqual([v.view.x, v.view.y, v.view.zoom, v.view.channel, v.view.area?.height], [64, 32, 2, 1, 64]);
    const cursor = Number((await get(`/fiji/hello?image=${image}`)).fields.cursor);
    ws.send({ type: 'view', view: { x: 5, y: 6, zoom: -1 } });
    const ev = await get(`/fiji/events?image=${image}&since=${cursor}&timeout=3000`);
    assert.deepEqual([ev.fields.type, ev.fields.x, ev.fields.zoom], ['view', '5', '-1']);
    const undo = await get(`/fiji/undo?image=${image}&id=u1&name=fiji-user`);
    assert.equal(undo.fields.ok, '1');
    const log = (await (await t.api(`/api/images/${image}/strokes`)).json()) as { entries: Array<{ op: string }> };
    assert.equal(log.entries.filter((e) => e.op === 'undo').length, 1, 'one undo although the GET came twice');
    const missing = await get(`/fiji/undo?image=${image}&name=fiji-user`);
    assert.equal(missing.status, 400);
    assert.match(missing.fields.error!, /id=ID/);
    ws.close();
  });

  it('an outline sent from Fiji becomes strokes that one undo switches off together', async () => {
    const image = await ownImage('outlines');
    const box = encodeURIComponent('outline|1|1|30,30;54,30;54,46;30,46');
    const sent = await get(`/fiji/stroke?image=${image}&id=o1&i=0&n=1&name=fiji-user&d=${box}`);
    assert.equal(sent.fields.complete, '1');
    const parts = Number(sent.fields.strokes);
    assert.ok(parts >= 3, `skeleton, ring and border: ${parts} strokes`);
    const undo = await get(`/fiji/undo?image=${image}&id=u-outline&name=fiji-user`);
    assert.equal(undo.fields.ok, '1');
    const log = (await (await t.api(`/api/images/${image}/strokes`)).json()) as {
      entries: Array<{ op: string; ref?: string }>;
    };
    assert.ok(
      log.entries.filter((e) => e.op !== 'undo').every((e) => e.ref === 'fiji-o1'),
      "the strokes carry the macro's id",
    );
    assert.equal(log.entries.filter((e) => e.op === 'undo').length, parts, 'every part undone by one undo');
    assert.equal(log.entries.length, 2 * parts, 'and nothing else: the doubled GET added no second copy');
  });

  it('trains and announces the prediction as .tif URLs with the model version in the path', async () => {
    const image = await ownImage('predictions');
    const ws = await TestClient.join(t.bridge, image, 'w2');
    ws.send({ type: 'draw', ref: 'fg', drawing: line(30, 30, 60, 60, 1, 4) });
    ws.send({ type: 'draw', ref: 'bg', drawing: line(90, 10, 120, 30, 2, 4) });
    await ws.next((m) => m.type === 'entry' && m.ref === 'bg');
    const cursor = Number((await get(`/fiji/hello?image=${image}`)).fields.cursor);
    ws.send({
      type: 'train-start',
      ref: 't',
      options: { steps: 2, depth: 2, base: 4, batchSize: 2, patch: 32, init: 'scratch' },
    });
    const model = await ws.next((m) => m.type === 'model', 120_000, 'model');
    const infer = await get(`/fiji/infer?image=${image}&id=inf1`);
    assert.equal(infer.fields.ok, '1');
    await ws.next((m) => m.type === 'tiles' && m.prediction.status === 'complete', 120_000);
    let since = cursor;
    const prediction = await waitFor(
      async () => {
        const ev = await get(`/fiji/events?image=${image}&since=${since}&timeout=1000`);
        if (ev.fields.seq) since = Number(ev.fields.seq);
        return ev.fields.type === 'prediction' ? ev.fields : null;
      },
      { timeoutMs: 60_000, what: 'a prediction event from /fiji/events' },
    );
    assert.equal(prediction.model, model.model.id, 'the prediction of the model just trained');
    for (const key of ['labels_url', 'entropy_url', 'probability_url']) {
      assert.match(prediction[key]!, new RegExp(`/${prediction.model}/0/\\w+\\.tif$`));
      const tif = await readTiff(await (await fetch(`${t.bridge.url}${prediction[key]}`)).arrayBuffer());
      assert.equal(tif.width, 128);
      if (key === 'entropy_url') assert.ok(tif.data.every((v) => v >= 0 && v <= Math.LN2 + 1e-6));
    }
    ws.close();
  });
});
