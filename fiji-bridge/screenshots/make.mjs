// Remakes the README's screenshots: ImageJ 1.53t on a private Xvfb display, linked to a bridge,
// with strokes from a web client, a prediction and its entropy as overlays.
// Run from the repository root after `npm run build`: node fiji-bridge/screenshots/make.mjs
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { labelOutlines, outlinesToStrokes, syntheticCells } from '@impartial/shared';
import { decode, encode } from 'fast-png';
import { projectWithImage, startTestBridge, TestClient } from '../../test/dist/helpers/bridge.js';
import { runImageJ, startDisplay } from '../../test/dist/helpers/imagej.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The screen shot, cropped to what is not black. */
function shoot(display, file) {
  const raw = path.join(here, 'raw.png');
  spawnSync('java', ['-cp', display.shotClasses, 'Shot', raw], { env: { ...process.env, DISPLAY: display.name } });
  const png = decode(readFileSync(raw));
  const { width, height, data, channels } = png;
  let x0 = width,
    y0 = height,
    x1 = 0,
    y1 = 0;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * channels;
      if (data[o] + data[o + 1] + data[o + 2] > 0) {
        x0 = Math.min(x0, x);
        y0 = Math.min(y0, y);
        x1 = Math.max(x1, x);
        y1 = Math.max(y1, y);
      }
    }
  const w = x1 - x0 + 1,
    h = y1 - y0 + 1,
    out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) out[(y * w + x) * 3 + c] = data[((y + y0) * width + x + x0) * channels + c];
  writeFileSync(file, encode({ width: w, height: h, data: out, channels: 3, depth: 8 }));
  spawnSync('rm', ['-f', raw]);
}

const t = await startTestBridge();
const display = await startDisplay();
try {
  const image = await projectWithImage(t, 256, 7);
  const ws = await TestClient.join(t.bridge, image.id, 'web-viewer');
  // A person's annotations: a dozen cells outlined (the same synthetic image projectWithImage uploads).
  const { labels } = syntheticCells({ width: 256, height: 256, channels: 2, seed: 7 });
  const outlines = [...labelOutlines(labels)]
    .filter(([id]) => id % 6 === 0)
    .slice(0, 12)
    .map(([, p]) => p);
  for (const [k, d] of outlinesToStrokes(outlines, 256, 256).entries())
    ws.send({ type: 'draw', ref: `s${k}`, drawing: d });
  ws.send({ type: 'train-start', ref: 't', options: { seconds: 40 } });
  await ws.next((m) => m.type === 'model', 300_000);
  ws.send({ type: 'infer', ref: 'i', request: { passes: 3 } });
  await ws.next((m) => m.type === 'tiles' && m.prediction.status === 'complete', 300_000);
  const shot = ws
    .upcoming((m) => m.type === 'view' && m.name === 'fiji', 150_000)
    .then(async () => {
      await new Promise((r) => setTimeout(r, 1500));
      shoot(display, path.join(here, 'live-overlays.png'));
      ws.send({ type: 'view', view: { x: 0, y: 0, zoom: 0 } });
    });
  const run = runImageJ(
    display,
    'screenshot',
    `ipConnect("${t.bridge.url}", "${t.bridge.token}", "fiji");
ipOpenImage("${image.id}");
run("Set... ", "zoom=200 x=128 y=128");
makeOval(100, 150, 30, 26); Roi.setName("cell");
IP_VIEW = ""; ipSendView();
for (k = 0; k < 100; k++) { got = ipPoll(100); if (got == "view") k = 1000; }
`,
    120_000,
  );
  await shot;
  await run;
  ws.close();
} finally {
  display.stop();
  await t.stop();
}
console.log(`wrote ${path.join(here, 'live-overlays.png')}`);
