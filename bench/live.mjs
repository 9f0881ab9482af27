// Live mode's latency (in `npm run bench -- live`, or alone: node bench/live.mjs after a build).
// The demo image (512^2 x 2, synthetic-1 of `impartial serve --demo`) in <impartial-viewer> in
// headless Chromium; the first look's shipped model becomes the project's first version; the live
// switch is turned on with the product's default training settings (fine-tuning that version).
// A cell and a background stroke start the training; then BENCH_LIVE_STROKES (default 10) strokes,
// cell and background in turn, one after the other as a person would, each drawn with the mouse.
// For each: the time from its pointer-up on the page to the page receiving the first tile of a
// refresh of the view whose training data held it (the bridge's `tiles` message names the newest
// stroke the weights had trained with), and to that refresh complete.
import { projectWithImage, startTestBridge } from '../test/dist/helpers/bridge.js';
import { chromiumMissing, launchChromium } from '../test/dist/helpers/browser.js';
import { quantile } from './stats.mjs';

const missing = chromiumMissing();
if (missing) {
  console.log(JSON.stringify({ skipped: missing }));
  process.exit(0);
}
const STROKES = Number(process.env.BENCH_LIVE_STROKES ?? 10);
const log = (m) => process.stderr.write(`${m}\n`);
const summary = (xs) => ({
  p50: quantile(xs, 0.5),
  p90: quantile(xs, 0.9),
  min: Math.min(...xs),
  max: Math.max(...xs),
});

const t = await startTestBridge();
const browser = await launchChromium();
const results = { strokes: STROKES };
try {
  const image = await projectWithImage(t, 512, 1, 'live', { unsaturated: true });
  const page = await browser.newPage({ viewport: { width: 900, height: 600 } });
  await page.goto(`${t.bridge.viewerUrl}?image=${image.id}&name=bench`);
  await page.waitForFunction(
    () => document.querySelector('impartial-viewer')?.prediction?.record.status === 'complete',
    null,
    { timeout: 120_000 },
  );
  await page.evaluate(() => {
    const viewer = document.querySelector('impartial-viewer');
    const w = window;
    w.ups = [];
    w.seqs = [];
    w.refreshes = [];
    window.addEventListener('pointerup', () => w.ups.push(performance.now()), true);
    viewer.addEventListener('stroke', (e) => w.seqs.push(e.detail.seq));
    viewer.client.addEventListener('tiles', (e) => {
      const m = e.detail;
      if (m.live) w.refreshes.push({ t: performance.now(), ...m.live, complete: m.prediction.status === 'complete' });
    });
  });
  await page.getByRole('checkbox', { name: 'live' }).check();

  // The side panels leave the image x 220-645, y 87-512 of the page (512 image pixels in 425 screen pixels).
  const draw = async (cls, x, y) => {
    await page.evaluate(() => document.querySelector('impartial-viewer').focus());
    await page.keyboard.press(String(cls));
    await page.mouse.move(x, y);
    await page.mouse.down();
    for (let k = 1; k <= 6; k++) await page.mouse.move(x + 4 * k, y + 3 * k);
    await page.mouse.up();
  };
  /** Waits for the refresh holding the stroke drawn `k`-th; its pointer-up to the first tile and to complete. */
  const latency = async (k) => {
    await page.waitForFunction((n) => window.seqs.length > n, k, { timeout: 30_000 });
    const seq = await page.evaluate((n) => window.seqs[n], k);
    await page.waitForFunction((s) => window.refreshes.some((r) => r.strokes >= s && r.complete), seq, {
      timeout: 300_000,
    });
    return page.evaluate(
      ([n, s]) => {
        const up = window.ups[n];
        const first = window.refreshes.find((r) => r.strokes >= s);
        const done = window.refreshes.find((r) => r.strokes >= s && r.complete);
        return { first: first.t - up, complete: done.t - up, step: first.step };
      },
      [k, seq],
    );
  };

  await draw(1, 300, 160);
  await draw(2, 560, 420);
  const start = await latency(1);
  log(`first refresh with both strokes: ${(start.first / 1000).toFixed(2)} s after the second pointer-up`);
  results.firstRefreshMs = start.first;
  const first = [],
    complete = [];
  // Spread over the image, away from the panels' edges.
  for (let k = 0; k < STROKES; k++) {
    const x = 250 + ((k * 97) % 340),
      y = 120 + ((k * 61) % 330);
    await draw(1 + (k % 2), x, y);
    const l = await latency(k + 2);
    first.push(l.first);
    complete.push(l.complete);
    log(`stroke ${k + 1}: first tile ${(l.first / 1000).toFixed(2)} s, complete ${(l.complete / 1000).toFixed(2)} s`);
  }
  results.strokeToFirstTileMs = summary(first);
  results.strokeToCompleteMs = summary(complete);
  const refreshes = await page.evaluate(() => window.refreshes.filter((r) => r.complete).length);
  results.refreshes = refreshes;
  await page.getByRole('checkbox', { name: 'live' }).uncheck();
  const jobs = await (await t.api('/api/projects/live/jobs')).json();
  const job = jobs.find((j) => j.kind === 'train');
  results.stepsPerSecond = job?.progress.stepsPerSecond ?? null;
} finally {
  await browser.close();
  await t.stop();
}
console.log(JSON.stringify(results));
process.exit(0);
