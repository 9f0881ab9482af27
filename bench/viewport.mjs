// The viewport on the demo's slide (part of `npm run bench -- scale`; alone: node bench/viewport.mjs
// after a build). The demo's procedural slide (BENCH_VIEWPORT_SIDE, default 20000, x 8 channels;
// written once, minutes), a model of the default size for 8 channels (random weights: the time does
// not depend on them), and Predict on a 1536 x 1024 canvas at one image pixel per screen pixel in
// the middle of the slide, 3 MC passes, 512 px tiles. Seconds from the request to the viewport
// covered by the one-pass preview and to its MC entropy: on the bridge alone (embedded), and with
// 1 and 2 `impartial worker` processes, which share the tiles of the one job out among themselves.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { inferPhases, SYSTEM, startBridge, tileOrder } from '@impartial/bridge-server';
import { childLineage, DEFAULT_UNET, initWeights } from '@impartial/shared';
import { initBackend, saveModelDir } from '@impartial/shared/node';
import { startRedis } from '../test/dist/helpers/redis.js';
import { cliChild } from './cli-child.mjs';

const SIDE = Number(process.env.BENCH_VIEWPORT_SIDE ?? 20000);
const log = (m) => process.stderr.write(`${m}\n`);
const until = async (condition, what, timeoutMs = 3_600_000, everyMs = 20) => {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await condition();
    if (v) return v;
    if (Date.now() > end) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
};

const worker = (name, queue, threads) =>
  cliChild(['worker', '--queue', queue, '--name', name, '--threads', String(threads)]);

const redis = await startRedis();
const dir = mkdtempSync(path.join(tmpdir(), 'impartial-bench-viewport-'));
const data = path.join(dir, 'data');
const results = { side: SIDE, channels: 8, tile: 512, passes: 3 };
try {
  let bridge = await startBridge({ data, host: '127.0.0.1', port: 0 });
  const project = (await bridge.services.projects.ensure(SYSTEM, 'demo', 'demo')).id;
  let t = performance.now();
  await bridge.services.images.importDemoSlide(SYSTEM, project, 'synthetic-slide', SIDE, () => {});
  const slide = await until(
    async () => bridge.services.images.byName(SYSTEM, project, 'synthetic-slide'),
    'the slide',
    3_600_000,
    500,
  );
  results.slideWriteSeconds = (performance.now() - t) / 1000;
  log(`slide ${SIDE}^2 x 8 written in ${results.slideWriteSeconds.toFixed(0)} s`);

  await initBackend();
  const config = { ...DEFAULT_UNET, inChannels: 8 };
  const lineage = childLineage(null, {
    id: 'bench8',
    author: 'bench',
    channels: slide.channelNames,
    steps: 0,
    seconds: 0,
  });
  const modelDir = path.join(dir, 'bench8');
  await saveModelDir({ config, weights: initWeights(config, 1), lineage }, modelDir);
  const files = new Map(readdirSync(modelDir).map((f) => [f, new Uint8Array(readFileSync(path.join(modelDir, f)))]));
  const model = (await bridge.services.models.addUploaded(SYSTEM, project, files, 8)).id;

  const viewport = { x: Math.round(SIDE / 2 - 768), y: Math.round(SIDE / 2 - 512), width: 1536, height: 1024 };
  const tileCount = Math.ceil(SIDE / 512) ** 2;
  const [preview] = inferPhases(tileOrder(SIDE, SIDE, 512, viewport), 3, viewport);
  const viewportTiles = preview.tiles.length;
  Object.assign(results, { viewport, viewportTiles, slideTiles: tileCount });

  const measure = async (b, label) => {
    const start = performance.now();
    const job = await b.services.inference.start(SYSTEM, { image: slide.id, model, viewport, tile: 512, passes: 3 });
    const seen = {};
    await until(async () => {
      const j = await b.services.jobs.get(SYSTEM, job.id);
      const done = j.progress?.done ?? 0;
      const s = (performance.now() - start) / 1000;
      if (done >= viewportTiles && seen.previewSeconds === undefined) seen.previewSeconds = s;
      if (done >= 2 * viewportTiles) seen.mcSeconds = s;
      if (j.status === 'failed') throw new Error(`${label}: ${j.error}`);
      return seen.mcSeconds !== undefined;
    }, label);
    await b.services.jobs.cancel(SYSTEM, job.id);
    await until(async () => (await b.services.jobs.get(SYSTEM, job.id)).status !== 'running', 'the job to stop');
    log(`${label}: ${JSON.stringify(seen)}`);
    return seen;
  };

  results.embedded = await measure(bridge, 'embedded');
  await bridge.close();
  bridge = await startBridge({ data, host: '127.0.0.1', port: 0, queue: redis.url });
  for (const n of [1, 2]) {
    // Worker processes on one machine split its cores (on GPU machines: one worker per GPU).
    const threads = Math.max(1, Math.floor(availableParallelism() / n));
    const ws = Array.from({ length: n }, (_, k) => worker(`w${k + 1}`, redis.url, threads));
    await until(() => ws.every((w) => /waiting for jobs/.test(w.out)), `${n} workers ready`, 120_000);
    results[`workers${n}`] = await measure(bridge, `${n} worker(s)`);
    results[`workers${n}`].sharesByWorker = ws.map((w) => (w.out.match(/\(tile-maps\)/g) ?? []).length);
    for (const w of ws) w.kill('SIGTERM');
    await Promise.all(ws.map((w) => new Promise((r) => (w.exitCode !== null ? r() : w.once('exit', r)))));
  }
  await bridge.close();
  t = results.embedded;
  results.speedup2 = {
    preview: t.previewSeconds / results.workers2.previewSeconds,
    mc: t.mcSeconds / results.workers2.mcSeconds,
  };
} finally {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(results));
process.exit(0);
