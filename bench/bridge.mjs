// Bridge figures (npm run bench, or alone: node bench/bridge.mjs): stroke fan-out latency with 20
// WebSocket clients, the bridge's event-loop lag and stroke latency while it trains, time to the
// first viewport tile after an inference request, and a whole-slide import's time and peak memory.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { syntheticCells } from '@impartial/shared';
import WebSocket from 'ws';
import { countsTiff } from './counts-tiff.mjs';
import { serve } from './serve.mjs';
import { quantile } from './stats.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TOKEN = 'bench';
const CLIENTS = 20;
const slideSide = Number(process.env.BENCH_SLIDE ?? 20000);
const log = (m) => process.stderr.write(`${m}\n`);
const stats = (xs) => ({ p50: quantile(xs, 0.5), p99: quantile(xs, 0.99), max: Math.max(...xs), n: xs.length });

const api = (url, p, init = {}) =>
  fetch(`${url}${p}`, {
    ...init,
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json', ...init.headers },
  }).then(async (r) => {
    if (!r.ok) throw new Error(`${p}: ${r.status} ${await r.text()}`);
    return r.json();
  });

function tiff(size, seed) {
  return countsTiff(syntheticCells({ width: size, height: size, channels: 2, seed }).image);
}

class Client {
  constructor(ws) {
    this.ws = ws;
    this.handlers = new Set();
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      for (const h of this.handlers) h(m);
    });
  }
  static async join(url, image, name) {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/ws?token=${TOKEN}`);
    await new Promise((r, j) => {
      ws.once('open', r);
      ws.once('error', j);
    });
    const c = new Client(ws);
    const welcome = c.wait((m) => m.type === 'welcome');
    c.send({ type: 'hello', protocol: 1, client: 'script', image, name });
    await welcome;
    return c;
  }
  send(m) {
    this.ws.send(JSON.stringify(m));
  }
  wait(pred, ms = 600_000) {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.handlers.delete(h);
        reject(new Error('timeout'));
      }, ms);
      const h = (m) => {
        if (pred(m)) {
          clearTimeout(t);
          this.handlers.delete(h);
          resolve(m);
        }
      };
      this.handlers.add(h);
    });
  }
}

/** Strokes from client 0: time to its acknowledgement and until all other clients have the entry. */
async function strokeRoundTrips(clients, count, offset) {
  const ack = [],
    fanout = [];
  for (let k = 0; k < count; k++) {
    const ref = `r${offset + k}`;
    const points = Array.from({ length: 30 }, (_, i) => [10 + i * 3, 10 + ((k * 7) % 200)]);
    const t0 = performance.now();
    const acked = clients[0]
      .wait((m) => m.type === 'entry' && m.ref === ref)
      .then(() => ack.push(performance.now() - t0));
    const seen = clients
      .slice(1)
      .map((c) =>
        c.wait(
          (m) =>
            m.type === 'entry' &&
            m.entry.points?.[0]?.[1] === points[0][1] &&
            m.entry.author === 'c0' &&
            m.ref === undefined,
        ),
      );
    clients[0].send({ type: 'draw', ref, drawing: { op: 'add', class: 1 + (k % 2), width: 3, points } });
    await Promise.all([acked, ...seen]);
    fanout.push(performance.now() - t0);
  }
  return { ack: stats(ack), fanout: stats(fanout) };
}

const dir = mkdtempSync(path.join(tmpdir(), 'impartial-bench-bridge-'));
const results = {};
const { child, url } = await serve(path.join(dir, 'data'), TOKEN);
try {
  await api(url, '/api/projects', { method: 'POST', body: JSON.stringify({ name: 'bench', id: 'b' }) });
  const small = await api(url, '/api/projects/b/images?name=small', {
    method: 'POST',
    headers: { 'Content-Type': 'image/tiff' },
    body: tiff(512, 1),
  });
  const clients = [];
  for (let i = 0; i < CLIENTS; i++) clients.push(await Client.join(url, small.id, `c${i}`));
  await strokeRoundTrips(clients, 20, 0); // warm-up
  log(`stroke round trips with ${CLIENTS} clients, idle bridge`);
  results.strokes = await strokeRoundTrips(clients, 200, 100);

  log('training (d3/b16, batch 4, 128 px patches, 30 s) while strokes go on');
  await api(url, '/api/health?reset=1');
  const trained = clients[1].wait((m) => m.type === 'model');
  await api(url, '/api/projects/b/train', { method: 'POST', body: JSON.stringify({ seconds: 30, init: 'scratch' }) });
  await clients[1].wait((m) => m.type === 'train-progress');
  await api(url, '/api/health?reset=1');
  results.strokesWhileTraining = await strokeRoundTrips(clients, 100, 1000);
  const ping = [];
  for (let k = 0; k < 50; k++) {
    const t0 = performance.now();
    const pong = clients[2].wait((m) => m.type === 'pong' && m.t === k);
    clients[2].send({ type: 'ping', t: k });
    await pong;
    ping.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 50));
  }
  results.pingWhileTraining = stats(ping);
  results.eventLoopWhileTraining = (await api(url, '/api/health')).eventLoopLagMs;
  const model = await trained;
  results.trainSteps = model.model.steps;
  for (const c of clients) c.ws.close();

  log('time to the first viewport tile, 2048 x 2048 image, T=3');
  const big = await api(url, '/api/projects/b/images?name=big', {
    method: 'POST',
    headers: { 'Content-Type': 'image/tiff' },
    body: tiff(2048, 2),
  });
  const watcher = await Client.join(url, big.id, 'watcher');
  const t0 = performance.now();
  const firstTile = watcher.wait((m) => m.type === 'tiles' && m.tiles.length > 0);
  const complete = watcher.wait((m) => m.type === 'tiles' && m.prediction.status === 'complete');
  await api(url, '/api/infer', {
    method: 'POST',
    body: JSON.stringify({
      image: big.id,
      viewport: { x: 768, y: 768, width: 512, height: 512 },
      passes: 3,
      tile: 512,
    }),
  });
  const first = await firstTile;
  const tFirst = performance.now() - t0;
  await complete;
  results.viewport = {
    firstTileSeconds: tFirst / 1000,
    wholeImageSeconds: (performance.now() - t0) / 1000,
    firstTile: first.tiles[0],
  };
  watcher.ws.close();
} finally {
  child.kill('SIGTERM');
}

log(`importing a procedural ${slideSide} x ${slideSide} x 8 slide (uint8) into an OME-Zarr pyramid`);
const importer = `
  import { Store } from '${path.join(repo, 'bridge-server/dist/store/store.js')}';
  import { importImage } from '${path.join(repo, 'bridge-server/dist/imaging/import.js')}';
  import { syntheticSlideSource } from '@impartial/shared';
  const store = await Store.open(${JSON.stringify(path.join(dir, 'slide'))});
  await store.projects.create('slide', 's');
  const t0 = performance.now();
  let next = 0;
  const source = syntheticSlideSource({ width: ${slideSide}, height: ${slideSide}, channels: 8, seed: 1 });
  const onProgress = (d, n) => {
    if (d / n >= next) { process.stderr.write('  ' + Math.round(100 * d / n) + '%\\n'); next += 0.1; }
  };
  const img = await importImage(store, source, { project: 's', name: 'slide', onProgress });
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000, peakRssMb, levels: img.levels }));
`;
results.slideImport = await new Promise((resolve, reject) => {
  const c = spawn(process.execPath, ['--input-type=module', '-e', importer], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  c.stdout.on('data', (d) => (out += d));
  c.on('close', (code) =>
    code === 0
      ? resolve({ side: slideSide, channels: 8, ...JSON.parse(out.trim().split('\n').pop()) })
      : reject(new Error(`import exited ${code}`)),
  );
});
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify(results));
