// Fiji bridge latencies (npm run bench, or alone: node bench/fiji.mjs): a ROI drawn in ImageJ until
// a WebSocket client has it, and a prediction published by the bridge until ImageJ shows it as an
// overlay. Real ImageJ 1.53t on a private Xvfb display; the bridge in this process.
import { line, projectWithImage, startTestBridge, TestClient } from '../test/dist/helpers/bridge.js';
import { imagejMissing, printed, runImageJ, startDisplay } from '../test/dist/helpers/imagej.js';
import { quantile } from './stats.mjs';

const missing = imagejMissing();
if (missing) {
  console.log(JSON.stringify({ skipped: missing }));
  process.exit(0);
}
const stats = (xs) => ({ p50: quantile(xs, 0.5), p90: quantile(xs, 0.9), max: Math.max(...xs), n: xs.length });
const log = (m) => process.stderr.write(`${m}\n`);

const t = await startTestBridge();
const display = await startDisplay();
const results = {};
try {
  const image = await projectWithImage(t, 256, 41);
  const connect = (name) =>
    `ipConnect("${t.bridge.url}", "${t.bridge.token}", "${name}");\nipOpenImage("${image.id}");\n`;
  const ROIS = 30;
  log(`ROI drawn in ImageJ -> WebSocket client (${ROIS} ROIs)`);
  const ws = await TestClient.join(t.bridge, image.id, 'bench');
  const received = [];
  ws.ws.on('message', (d) => {
    const m = JSON.parse(d.toString());
    if (m.type === 'entry' && m.entry.author === 'fiji-bench') received.push({ seq: m.entry.seq, t: Date.now() });
  });
  const run = await runImageJ(
    display,
    'bench-rois',
    `${connect('fiji-bench')}
for (k = 0; k < ${ROIS}; k++) {
  x0 = 10 + random * 200; y0 = 10 + random * 200;
  makeSelection("freeline", newArray(x0, x0 + 10, x0 + 25, x0 + 30), newArray(y0, y0 + 12, y0 + 8, y0 + 20));
  t0 = getTime(); seq = ipSendSelection();
  print("sent" + seq + "=" + d2s(t0, 0));
  wait(50);
}
`,
    120_000,
  );
  const sent = printed(run.log);
  await new Promise((r) => setTimeout(r, 300));
  results.roiToWeb = stats(received.map((r) => r.t - Number(sent[`sent${r.seq}`])).filter(Number.isFinite));

  const PREDICTIONS = 10;
  log(`prediction published -> overlay in ImageJ (${PREDICTIONS} predictions)`);
  ws.send({ type: 'draw', ref: 'fg', drawing: line(40, 40, 90, 90, 1, 4) });
  ws.send({ type: 'draw', ref: 'bg', drawing: line(150, 10, 240, 40, 2, 4) });
  ws.send({
    type: 'train-start',
    ref: 't',
    options: { steps: 3, depth: 2, base: 4, batchSize: 2, patch: 32, init: 'scratch' },
  });
  await ws.next((m) => m.type === 'model', 120_000);
  const published = [];
  const driver = ws
    .upcoming((m) => m.type === 'view' && m.name === 'fiji-live', 60_000)
    .then(async () => {
      for (let k = 0; k < PREDICTIONS; k++) {
        const done = ws.upcoming((m) => m.type === 'tiles' && m.prediction.status === 'complete', 60_000);
        ws.send({ type: 'infer', ref: `i${k}`, request: { passes: 1 } });
        await done;
        published.push(Date.now());
        await new Promise((r) => setTimeout(r, 1500));
      }
    });
  const live = runImageJ(
    display,
    'bench-predictions',
    `${connect('fiji-live')}
IP_VIEW = ""; ipSendView();
n = 0;
for (k = 0; k < 2000 && n < ${PREDICTIONS}; k++) {
  got = ipPoll(100);
  if (got == "prediction") { print("applied" + n + "=" + d2s(getTime(), 0)); n++; }
}
`,
    300_000,
  );
  await driver;
  const applied = printed((await live).log);
  results.predictionToImageJ = stats(
    published.map((p, k) => Number(applied[`applied${k}`]) - p).filter(Number.isFinite),
  );
  ws.close();
} finally {
  display.stop();
  await t.stop();
}
console.log(JSON.stringify(results));
