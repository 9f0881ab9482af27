import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SYSTEM } from '@impartial/bridge-server';
import { type ImageRecord, openArray, readRegion, readTiff } from '@impartial/shared';
import { FileSystemStore } from '@impartial/shared/node';
import { decode as decodePng } from 'fast-png';
import {
  drawCellAndBackground,
  folderOf,
  line,
  projectWithImage,
  startTestBridge,
  type TestBridge,
  TestClient,
  TINY_TRAINING,
} from '../helpers/bridge.js';
import { type Display, imagejMissing, printed, runImageJ, startDisplay } from '../helpers/imagej.js';

// Skipped with the reason where ImageJ is absent, but never in CI: there a missing ImageJ fails.
const missing = process.env.CI ? undefined : imagejMissing();

/**
 * Macro code: polls the bridge's events until one of `type` comes or `ms` pass, and returns the
 * type of the last event seen (`type` when it came). Tests print it and check it.
 */
const AWAIT_EVENT = `
function ipAwait(type, ms) {
  deadline = getTime() + ms;
  got = "";
  while (got != type && getTime() < deadline) got = ipPoll(200);
  return got;
}
`;

describe('fiji-bridge macro in real ImageJ 1.53t', { skip: missing, timeout: 600_000 }, () => {
  let t: TestBridge;
  let display: Display;
  /** A 128 x 128 image in a project of its own: no other test's strokes or models reach it. */
  const ownImage = (project: string): Promise<ImageRecord> => projectWithImage(t, 128, 31, project);
  const connect = (image: ImageRecord, name = 'fiji-test') =>
    `ipConnect("${t.bridge.url}", "${t.bridge.token}", "${name}");\nipOpenImage("${image.id}");\n${AWAIT_EVENT}`;
  before(async () => {
    const absent = imagejMissing();
    if (absent) throw new Error(`CI must run the ImageJ tests: ${absent}`);
    t = await startTestBridge();
    display = await startDisplay();
  });
  after(async () => {
    display?.stop();
    await t?.stop();
  });

  it('sends ROIs drawn in ImageJ as scribbles that a WebSocket client sees', async () => {
    const image = await ownImage('rois');
    const ws = await TestClient.join(t.bridge, image.id, 'web');
    const run = await runImageJ(
      display,
      'rois',
      `${connect(image)}
makeSelection("freeline", newArray(10, 20, 35, 50), newArray(12, 30, 33, 40)); Roi.setName("cell");
print("freeline=" + ipSendSelection());
makeOval(70, 70, 24, 20); Roi.setName("cell 7");
print("oval=" + ipSendSelection());
makeLine(100, 10, 120, 40); Roi.setName("bg");
print("line=" + ipSendSelection());
print("width=" + getWidth() + " scale=" + IP_SCALE);
`,
    );
    const out = printed(run.log);
    assert.equal(out.width, '128 scale=1', run.log);
    const entries = () =>
      ws
        .of('entry')
        .map((m) => m.entry)
        .filter((e) => e.author === 'fiji-test');
    await ws.next(() => entries().some((e) => e.seq === Number(out.line)), 10_000);
    const byClass = (c: number) => entries().filter((e) => (e.op === 'add' || e.op === 'erase') && e.class === c);
    const freeline = entries().find((e) => e.seq === Number(out.freeline))!;
    assert.equal(freeline.op, 'add');
    assert.ok(freeline.op === 'add' && freeline.class === 1);
    assert.deepEqual(
      freeline.op === 'add' && freeline.points.slice(0, 2),
      [
        [10, 12],
        [20, 30],
      ],
      'points in level-0 pixels, as drawn',
    );
    const line = entries().find((e) => e.seq === Number(out.line))!;
    assert.ok(line.op === 'add' && line.class === 2, 'a ROI named bg is background');
    const fromOval = entries().filter((e) => e.seq > freeline.seq && e.seq < line.seq);
    assert.ok(fromOval.length >= 2, 'the closed oval became several strokes');
    assert.ok(
      fromOval.some((e) => e.op === 'add' && e.class === 1) && fromOval.some((e) => e.op === 'add' && e.class === 2),
      'cell skeleton/ring and background outline',
    );
    assert.ok(byClass(2).length >= 2);
    ws.close();
  });

  it('shows strokes of web viewers as overlays, live, and removes an undone one', async () => {
    const image = await ownImage('overlays');
    const ws = await TestClient.join(t.bridge, image.id, 'painter');
    ws.send({ type: 'draw', ref: 'before', drawing: line(5, 100, 60, 110, 1, 3) });
    const before = await ws.next((m) => m.type === 'entry' && m.ref === 'before', 5000, 'entry');
    // The macro links (drawing what exists), says it is ready with a view, then polls.
    const ready = ws
      .upcoming((m) => m.type === 'view' && m.name === 'fiji-live', 30_000)
      .then(() => {
        ws.send({
          type: 'draw',
          ref: 'live',
          drawing: {
            op: 'add',
            class: 2,
            width: 4,
            points: [
              [80, 20],
              [100, 25],
              [120, 60],
            ],
          },
        });
        return ws.next((m) => m.type === 'entry' && m.ref === 'live', 5000, 'entry');
      });
    const macro = runImageJ(
      display,
      'overlay',
      `${connect(image, 'fiji-live')}
ipSendView();
print("awaited_stroke=" + ipAwait("stroke", 20000));
function dump(label) {
  for (i = 0; i < Overlay.size; i++) {
    Overlay.activateSelection(i);
    getSelectionCoordinates(xs, ys);
    print(label + Roi.getName + "=" + xs.length + ":" + xs[0] + "," + ys[0] + ":" + Roi.getStrokeColor);
  }
  run("Select None");
}
dump("A ");
IP_VIEW = "";
ipSendView();
print("awaited_undo=" + ipAwait("undo", 20000));
dump("B ");
`,
    );
    const live = await ready;
    // After the first dump the macro sends its view again: then the painter undoes the live stroke.
    await ws.upcoming((m) => m.type === 'view' && m.name === 'fiji-live', 60_000);
    ws.send({ type: 'undo', ref: 'u' });
    const run = await macro;
    assert.equal(printed(run.log).awaited_stroke, 'stroke', `the macro saw the live stroke: ${run.log}`);
    assert.equal(printed(run.log).awaited_undo, 'undo', `the macro saw the undo: ${run.log}`);
    const lines = run.log.split('\n');
    const a = lines.filter((l) => l.startsWith('A ip-stroke-'));
    const b = lines.filter((l) => l.startsWith('B ip-stroke-'));
    assert.ok(
      a.some((l) => l.startsWith(`A ip-stroke-${before.entry.seq}=2:5,100:`)),
      `the stroke drawn before linking: ${run.log}`,
    );
    const liveLine = a.find((l) => l.startsWith(`A ip-stroke-${live.entry.seq}=`));
    assert.ok(liveLine, `the stroke drawn while live: ${run.log}`);
    assert.match(liveLine, /=3:80,20:/);
    assert.match(liveLine, /ff00ff/i, 'background strokes in magenta');
    assert.ok(
      b.every((l) => !l.startsWith(`B ip-stroke-${live.entry.seq}=`)),
      'the undone stroke is gone',
    );
    assert.ok(b.some((l) => l.startsWith(`B ip-stroke-${before.entry.seq}=`)));
    ws.close();
  });

  it("shows a prediction and its entropy as overlays with the bridge's pixel values", async () => {
    const image = await ownImage('predictions');
    const ws = await TestClient.join(t.bridge, image.id, 'trainer');
    await drawCellAndBackground(ws, [40, 40]);
    // ImPartial's dropout of 0.5, sampled (MC dropout): the net of a few steps predicts p near 0.5, and only
    // heavy dropout makes its two passes disagree enough for the entropies to spread over the overlay's colours.
    ws.send({ type: 'train-start', ref: 't', options: { ...TINY_TRAINING, dropout: 0.5 } });
    await ws.next((m) => m.type === 'model', 120_000);
    const out = await mkdtemp(path.join(tmpdir(), 'ij-pred-'));
    let model = '';
    ws.upcoming((m) => m.type === 'view' && m.name === 'fiji-pred', 30_000).then(() =>
      ws.send({ type: 'infer', ref: 'i', request: { passes: 2, dropout: true } }),
    );
    const run = await runImageJ(
      display,
      'prediction',
      `${connect(image, 'fiji-pred')}
IP_KEEP_PREDICTION = "${out}";
ipSendView();
print("awaited=" + ipAwait("prediction", 60000));
print("model=" + List.get("model"));
print("overlays=" + Overlay.size);
selectImage(IP_WINDOW); run("Flatten"); saveAs("PNG", "${out}/flattened.png");
`,
      180_000,
    );
    const p = printed(run.log);
    assert.equal(p.awaited, 'prediction', `the macro saw the prediction: ${run.log}`);
    model = p.model!;
    assert.match(model, /^m/, run.log);
    assert.equal(Number(p.overlays) >= 2, true);
    const zarr = new FileSystemStore(folderOf(await t.bridge.services.predictions.zarrFiles(SYSTEM, image.id, model)));
    const labels = await readRegion(await openArray(zarr, 'labels/instances/0'), 0, 0, 128, 128);
    const entropy = await readRegion(await openArray(zarr, '0'), 0, 0, 128, 128, 1);
    const shownLabels = await readTiff((await readFile(path.join(out, 'labels.tif'))).buffer as ArrayBuffer);
    let agree = 0;
    for (let i = 0; i < labels.length; i++) if (labels[i]! > 0 === shownLabels.data[i]! > 0) agree++;
    assert.equal(agree, labels.length, 'the label overlay covers exactly the predicted cells');
    const shownEntropy = await readTiff((await readFile(path.join(out, 'entropy.tif'))).buffer as ArrayBuffer);
    assert.equal(shownEntropy.channels, 3, 'entropy overlay is RGB (Fire)');
    const brightness = (i: number) =>
      shownEntropy.data[i]! + shownEntropy.data[128 * 128 + i]! + shownEntropy.data[2 * 128 * 128 + i]!;
    let lo = 0,
      hi = 0;
    for (let i = 1; i < entropy.length; i++) {
      if (entropy[i]! < entropy[lo]!) lo = i;
      if (entropy[i]! > entropy[hi]!) hi = i;
    }
    assert.ok(brightness(hi) > brightness(lo), `more uncertain is brighter (entropy ${entropy[hi]} vs ${entropy[lo]})`);
    // The macro shows 0..ln 2 as 8 bits, rounding (ImageJ: value * 256 / range + 0.5): level 0 lies under half a step.
    if (entropy[lo]! < Math.LN2 / 512)
      assert.equal(
        brightness(lo),
        0,
        `certain pixels are black, so the overlay leaves them transparent (${entropy[lo]})`,
      );
    const flat = decodePng(new Uint8Array(await readFile(path.join(out, 'flattened.png'))));
    assert.deepEqual([flat.width, flat.height], [128, 128]);
    ws.close();
  });

  it('syncs the view both ways', async () => {
    const image = await ownImage('views');
    const ws = await TestClient.join(t.bridge, image.id, 'viewer');
    const got = ws
      .upcoming((m) => m.type === 'view' && m.name === 'fiji-view', 30_000)
      .then((m) => {
        ws.send({ type: 'view', view: { x: 50, y: 60, zoom: 4, channel: 0 } });
        return m as Extract<typeof m, { type: 'view' }>;
      });
    const run = await runImageJ(
      display,
      'view',
      `${connect(image, 'fiji-view')}
Stack.setChannel(2);
run("Set... ", "zoom=400 x=64 y=64");
ipSendView();
print("awaited=" + ipAwait("view", 20000));
Stack.getPosition(c, z, f);
getDisplayedArea(x, y, w, h);
print("zoom=" + getZoom()); print("channel=" + c); print("cx=" + (x + w / 2)); print("cy=" + (y + h / 2));
`,
    );
    const v = await got;
    assert.equal(v.view.channel, 1, 'ImageJ channel 2 is channel index 1');
    assert.equal(v.view.zoom, 2, 'ImageJ 400% is deck.gl zoom 2');
    assert.ok(Math.abs(v.view.x - 64) <= 1 && Math.abs(v.view.y - 64) <= 1, `centre ${v.view.x},${v.view.y}`);
    const p = printed(run.log);
    assert.equal(p.awaited, 'view', `the macro saw the web viewer's view: ${run.log}`);
    assert.equal(Number(p.zoom), 16, `deck.gl zoom 4 is ImageJ 1600%: ${run.log}`);
    assert.equal(p.channel, '1');
    assert.ok(
      Math.abs(Number(p.cx) - 50) <= 6 && Math.abs(Number(p.cy) - 60) <= 6,
      `ImageJ centred near 50,60: ${run.log}`,
    );
    ws.close();
  });
});
