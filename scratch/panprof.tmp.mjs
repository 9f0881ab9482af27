import { startTestBridge, projectWithImage, TestClient, line } from '../test/dist/helpers/bridge.js';
import { launchChromium } from '../test/dist/helpers/browser.js';
const quantile = (xs, q) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(q * s.length))]; };
const t = await startTestBridge();
const browser = await launchChromium();
try {
  const image = await projectWithImage(t, 1024, 3);
  const url = `${t.bridge.viewerUrl}?image=${image.id}`;
  const ws = await TestClient.join(t.bridge, image.id, 'bench');
  ws.send({ type: 'draw', ref: 'a', drawing: line(100, 100, 300, 300, 1, 4) });
  ws.send({ type: 'draw', ref: 'b', drawing: line(600, 50, 900, 200, 2, 4) });
  ws.send({ type: 'train-start', ref: 't', options: { steps: 3, depth: 2, base: 4, batchSize: 2, patch: 32, init: 'scratch' } });
  await ws.next((m) => m.type === 'model', 120_000);
  ws.send({ type: 'infer', ref: 'i', request: { passes: 1 } });
  await ws.next((m) => m.type === 'tiles' && m.prediction.status === 'complete', 300_000);
  const a = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  a.on('console', (m) => console.error('page:', m.text()));
  await a.goto(`${url}&name=alice`);
  await a.waitForFunction(() => /saved/.test(document.querySelector('impartial-viewer').shadowRoot.querySelector('.status').textContent), null, { timeout: 30_000 });
  await a.waitForTimeout(3000);
  const pan = (page) => page.evaluate(() => new Promise((resolve) => {
    const v = document.querySelector('impartial-viewer');
    const times = []; let last = 0; const start = performance.now(); const base = v.view.target.slice();
    const step = (now) => {
      if (last) times.push(now - last);
      last = now;
      const k = (now - start) / 1000;
      v.view = { ...v.view, target: [base[0] + 200 * Math.sin(k * 2), base[1] + 120 * Math.cos(k * 2), 0] };
      v.redraw();
      if (now - start < 3000) requestAnimationFrame(step); else { v.view = { ...v.view, target: base }; v.redraw(); resolve({ times: times.slice(5), m: { ...v.deck.metrics } }); }
    };
    requestAnimationFrame(step);
  }));
  await pan(a);
  const combos = JSON.parse(process.env.COMBOS ?? '[]');
  for (const c of combos) {
    await a.evaluate((c) => document.querySelector('impartial-viewer').setLayers(c), c);
    await a.waitForTimeout(800);
    const { times: xs, m } = await pan(a);
    console.log(JSON.stringify(c), 'p50', quantile(xs, 0.5).toFixed(1), 'mean', (xs.reduce((s, x) => s + x, 0) / xs.length).toFixed(1), 'n', xs.length, 'cpu/frame', m.cpuTimePerFrame?.toFixed?.(1), 'gpu/frame', m.gpuTimePerFrame?.toFixed?.(1), 'setProps', m.setPropsTime?.toFixed?.(1));
  }
  ws.close();
} finally { await browser.close(); await t.stop(); }
