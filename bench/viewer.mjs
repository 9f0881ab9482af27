// Viewer figures (npm run bench, or alone: node bench/viewer.mjs), headless Debian Chromium with
// WebGL on SwiftShader: time to the first image frame, frame time while panning with every layer
// on versus the image layer alone, stroke-to-visible latency on a second viewer, bundle size.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { decode } from 'fast-png';
import { line, projectWithImage, startTestBridge, TestClient } from '../test/dist/helpers/bridge.js';
import { chromiumMissing, launchChromium } from '../test/dist/helpers/browser.js';
import { quantile } from './stats.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const missing = chromiumMissing();
if (missing) {
  console.log(JSON.stringify({ skipped: missing }));
  process.exit(0);
}
const log = (m) => process.stderr.write(`${m}\n`);
const lit = (png) => {
  const img = decode(new Uint8Array(png));
  let n = 0,
    hit = 0;
  for (let y = 40; y < img.height - 40; y += 4)
    for (let x = 240; x < img.width - 240; x += 4) {
      const o = (y * img.width + x) * img.channels;
      n++;
      if (img.data[o] + img.data[o + 1] + img.data[o + 2] > 120) hit++;
    }
  return hit / n;
};

const results = {};
const bundle = path.join(repo, 'viewer-plugin', 'bundle');
const js = readdirSync(bundle).filter((f) => f.endsWith('.js'));
// The entry and every chunk it imports statically (recursively); lazy chunks (codecs) load on demand.
const staticChunks = new Set();
const walk = (text) => {
  for (const m of text.matchAll(/(?:from|import)\s*"\.\/(chunk-[\w-]+\.js)"/g))
    if (!staticChunks.has(m[1])) {
      staticChunks.add(m[1]);
      walk(readFileSync(path.join(bundle, m[1])).toString());
    }
};
walk(readFileSync(path.join(bundle, 'impartial-viewer.js')).toString());
const gz = (f) => gzipSync(readFileSync(path.join(bundle, f))).length;
results.bundle = {
  elementGzipKb: (gz('impartial-viewer.js') + [...staticChunks].reduce((s, f) => s + gz(f), 0)) / 1024,
  allGzipKb: js.reduce((s, f) => s + gz(f), 0) / 1024,
  files: js.length,
};

const t = await startTestBridge();
const browser = await launchChromium();
try {
  const image = await projectWithImage(t, 1024, 3);
  const url = `${t.bridge.viewerUrl}?image=${image.id}`;
  log('time to the first image frame');
  const firstFrame = [];
  for (let k = 0; k < 5; k++) {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    const t0 = Date.now();
    await page.goto(`${url}&name=first${k}`);
    while (Date.now() - t0 < 30_000) {
      if (lit(await page.screenshot()) > 0.5) break;
      await page.waitForTimeout(50);
    }
    firstFrame.push(Date.now() - t0);
    await page.close();
  }
  results.firstFrameMs = { p50: quantile(firstFrame, 0.5), all: firstFrame };

  log('a prediction to show (tiny model)');
  const ws = await TestClient.join(t.bridge, image.id, 'bench');
  ws.send({ type: 'draw', ref: 'a', drawing: line(100, 100, 300, 300, 1, 4) });
  ws.send({ type: 'draw', ref: 'b', drawing: line(600, 50, 900, 200, 2, 4) });
  ws.send({
    type: 'train-start',
    ref: 't',
    options: { steps: 3, depth: 2, base: 4, batchSize: 2, patch: 32, init: 'scratch' },
  });
  await ws.next((m) => m.type === 'model', 120_000);
  ws.send({ type: 'infer', ref: 'i', request: { passes: 1 } });
  await ws.next((m) => m.type === 'tiles' && m.prediction.status === 'complete', 300_000);

  const a = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  const b = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  await a.goto(`${url}&name=alice`);
  await b.goto(`${url}&name=bob`);
  for (const p of [a, b])
    await p.waitForFunction(
      () => /saved/.test(document.querySelector('impartial-viewer').shadowRoot.querySelector('.status').textContent),
      null,
      { timeout: 30_000 },
    );
  await a.waitForTimeout(3000);
  // One pan first, untimed, loads the tiles on the path; then all layers and the image alone in
  // alternating rounds, side by side (the same path; the view returns to where it started).
  const pan = (page, ms) =>
    page.evaluate(
      (ms) =>
        new Promise((resolve) => {
          const v = document.querySelector('impartial-viewer');
          const times = [];
          let last = 0;
          const start = performance.now();
          const base = v.view.target.slice();
          const step = (now) => {
            if (last) times.push(now - last);
            last = now;
            const k = (now - start) / 1000;
            v.view = { ...v.view, target: [base[0] + 200 * Math.sin(k * 2), base[1] + 120 * Math.cos(k * 2), 0] };
            v.redraw();
            if (now - start < ms) requestAnimationFrame(step);
            else {
              v.view = { ...v.view, target: base };
              v.redraw();
              resolve(times.slice(3));
            }
          };
          requestAnimationFrame(step);
        }),
      ms,
    );
  const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const setAll = (page, on) =>
    page.evaluate(
      (on) => document.querySelector('impartial-viewer').setLayers({ strokes: on, prediction: on, entropy: on }),
      on,
    );
  await pan(a, 3000);
  log('frame time while panning: all layers vs the image alone, alternating');
  // Frame intervals come in whole vsync periods (16.7 ms), so a per-frame median jumps between
  // them; each round's mean frame time (its frame rate) is the measure, the median over rounds the figure.
  const allOn = [],
    imageOnly = [];
  for (let round = 0; round < 5; round++) {
    await setAll(a, true);
    await a.waitForTimeout(300);
    allOn.push(mean(await pan(a, 3000)));
    await setAll(a, false);
    await a.waitForTimeout(300);
    imageOnly.push(mean(await pan(a, 3000)));
  }
  await setAll(a, true);
  results.panFrameMs = {
    allLayers: quantile(allOn, 0.5),
    imageOnly: quantile(imageOnly, 0.5),
    ratio: quantile(allOn, 0.5) / quantile(imageOnly, 0.5),
    rounds: { allLayers: allOn.map((m) => +m.toFixed(1)), imageOnly: imageOnly.map((m) => +m.toFixed(1)) },
  };

  log('stroke -> visible on a second viewer');
  await b.bringToFront();
  await b.evaluate(() => {
    window.__seen = [];
    // Received, then on screen: the first frame deck finishes after the entry arrived has drawn it.
    const v = document.querySelector('impartial-viewer');
    v.addEventListener('stroke', (e) => {
      const got = Date.now();
      v.addEventListener('rendered', () => window.__seen.push({ seq: e.detail.seq, got, shown: Date.now() }), {
        once: true,
      });
    });
  });
  const sent = [];
  for (let k = 0; k < 30; k++) {
    const t0 = await a.evaluate((k) => {
      const v = document.querySelector('impartial-viewer');
      const t = Date.now();
      v.client.draw({
        op: 'add',
        class: 1 + (k % 2),
        width: 3,
        points: [
          [50 + k * 10, 400],
          [60 + k * 10, 450],
        ],
      });
      return t;
    }, k);
    sent.push(t0);
    await a.waitForTimeout(150);
  }
  await b.waitForTimeout(500);
  const seen = await b.evaluate(() => window.__seen);
  const got = seen.slice(-30).map((s, k) => s.got - sent[k]),
    shown = seen.slice(-30).map((s, k) => s.shown - sent[k]);
  results.strokeToSecondViewerMs = {
    received: { p50: quantile(got, 0.5), p90: quantile(got, 0.9) },
    shown: { p50: quantile(shown, 0.5), p90: quantile(shown, 0.9) },
    n: shown.length,
  };
  ws.close();
} finally {
  await browser.close();
  await t.stop();
}
console.log(JSON.stringify(results));
