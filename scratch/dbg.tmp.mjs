import { startTestBridge, projectWithImage, TestClient, line } from '../test/dist/helpers/bridge.js';
import { launchChromium } from '../test/dist/helpers/browser.js';
const t = await startTestBridge();
const browser = await launchChromium();
try {
  const image = await projectWithImage(t, 768, 7);
  const ws = await TestClient.join(t.bridge, image.id, 'bench');
  ws.send({ type: 'draw', ref: 'a', drawing: line(100, 100, 300, 300, 1, 4) });
  ws.send({ type: 'draw', ref: 'b', drawing: line(600, 50, 700, 200, 2, 4) });
  ws.send({ type: 'train-start', ref: 't', options: { steps: 3, depth: 2, base: 4, batchSize: 2, patch: 32, init: 'scratch' } });
  await ws.next((m) => m.type === 'model', 120_000);
  ws.send({ type: 'infer', ref: 'i', request: { passes: 1 } });
  await ws.next((m) => m.type === 'tiles' && m.prediction.status === 'complete', 300_000);
  const a = await browser.newPage({ viewport: { width: 1000, height: 700 } });
  a.on('console', (m) => console.log('page:', m.text().slice(0, 300)));
  await a.goto(`${t.bridge.viewerUrl}?image=${image.id}&name=alice`);
  await a.waitForTimeout(4000);
  console.log(await a.evaluate(process.env.EXPR ?? '1'));
  await a.screenshot({ path: '/tmp/prof/dbg.png' });
  ws.close();
} finally { await browser.close(); await t.stop(); }
