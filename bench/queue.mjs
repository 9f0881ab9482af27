// Scale-out figures on this machine (part of `npm run bench -- scale`; alone: node bench/queue.mjs
// after a build). Starts its own Redis and PostgreSQL on loopback.
// - Jobs through BullMQ with 1, 2 and 4 `impartial worker` processes: BENCH_QUEUE_JOBS inference
//   jobs (one pass, 256 x 256 x 2, the shipped model) asked for at once; jobs per minute, and the
//   queue latency (added to taken by a worker) of one job on idle workers, and median and p90 in
//   the burst, from BullMQ's own timestamps.
// - Stroke fan-out across two bridge nodes (one in this process, one `impartial serve` child):
//   a stroke drawn on node 1 until a client of node 2 has it, p50 and p99 over BENCH_STROKES.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { memorySource, SYSTEM, startBridge } from '@impartial/bridge-server';
import { PROTOCOL_VERSION, syntheticCells } from '@impartial/shared';
import { Job, Queue } from 'bullmq';
import { WebSocket } from 'ws';
import { startPostgres } from '../test/dist/helpers/postgres.js';
import { startRedis } from '../test/dist/helpers/redis.js';
import { cliChild } from './cli-child.mjs';
import { quantile } from './stats.mjs';

const JOBS = Number(process.env.BENCH_QUEUE_JOBS ?? 16);
const STROKES = Number(process.env.BENCH_STROKES ?? 200);
const log = (m) => process.stderr.write(`${m}\n`);
const until = async (condition, what, timeoutMs = 300_000) => {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await condition();
    if (v) return v;
    if (Date.now() > end) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

const [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
const dir = mkdtempSync(path.join(tmpdir(), 'impartial-bench-queue-'));
const results = { jobs: JOBS, strokes: STROKES, workers: {} };
try {
  // Jobs per minute and queue latency.
  const bridge = await startBridge({
    data: path.join(dir, 'data'),
    host: '127.0.0.1',
    port: 0,
    database: pg.database('queue'),
    queue: redis.url,
  });
  const project = (await bridge.services.projects.ensure(SYSTEM, 'bench', 'bench')).id;
  const images = [];
  for (let k = 0; k < JOBS; k++) {
    const { image } = syntheticCells({ width: 256, height: 256, channels: 2, seed: k + 1 });
    images.push((await bridge.services.images.importSource(SYSTEM, project, memorySource(image), `i${k}`)).id);
  }
  await bridge.services.models.forChannels(SYSTEM, project, 2);
  const queue = new Queue('impartial-jobs', {
    connection: { host: '127.0.0.1', port: Number(new URL(redis.url).port) },
  });
  for (const n of [1, 2, 4]) {
    const workers = Array.from({ length: n }, (_, k) =>
      cliChild(['worker', '--queue', redis.url, '--name', `w${k}`], { IMPARTIAL_WASM_THREADS: '1' }),
    );
    await until(() => workers.every((w) => /waiting for jobs/.test(w.out)), `${n} workers ready`);
    // One job alone on idle workers: what the queue adds (enqueue to a worker taking it).
    const alone = await bridge.services.inference.start(SYSTEM, { image: images[0], tile: 256, passes: 1 });
    await until(async () => (await bridge.services.jobs.get(SYSTEM, alone.id)).status === 'done', 'one job');
    const aloneJob = await Job.fromId(queue, alone.id);
    const idleLatencyMs = aloneJob.processedOn - aloneJob.timestamp;
    const start = performance.now();
    const jobs = await Promise.all(
      images.map((image) => bridge.services.inference.start(SYSTEM, { image, tile: 256, passes: 1 })),
    );
    await until(async () => {
      const states = await Promise.all(jobs.map((j) => bridge.services.jobs.get(SYSTEM, j.id)));
      return states.every((s) => s.status === 'done' || s.status === 'failed');
    }, `${JOBS} jobs on ${n} workers`);
    const seconds = (performance.now() - start) / 1000;
    const waits = [];
    for (const j of jobs) {
      const q = await Job.fromId(queue, j.id);
      if (q?.processedOn) waits.push(q.processedOn - q.timestamp);
    }
    results.workers[n] = {
      jobsPerMinute: (60 * JOBS) / seconds,
      seconds,
      queueLatencyMs: { idle: idleLatencyMs, median: quantile(waits, 0.5), p90: quantile(waits, 0.9) },
    };
    log(`${n} worker(s): ${JSON.stringify(results.workers[n])}`);
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => new Promise((r) => (w.exitCode !== null ? r() : w.once('exit', r)))));
  }
  await queue.close();
  await bridge.close();

  // Stroke fan-out across two nodes.
  const data = path.join(dir, 'nodes');
  const database = pg.database('nodes');
  const token = 'bench-token';
  const a = await startBridge({ data, host: '127.0.0.1', port: 0, database, queue: redis.url, token });
  const b = cliChild([
    'serve',
    '--data',
    data,
    '--db',
    database,
    '--queue',
    redis.url,
    '--port',
    '0',
    '--token',
    token,
  ]);
  const bUrl = await until(() => /listening on (http:\/\/[^/\s]+)/.exec(b.out)?.[1], 'the second node');
  const p = (await a.services.projects.ensure(SYSTEM, 'fan', 'fan')).id;
  const { image: pixels } = syntheticCells({ width: 256, height: 256, channels: 2, seed: 9 });
  const image = (await a.services.images.importSource(SYSTEM, p, memorySource(pixels), 'fan')).id;
  const join = async (url, name) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`, { headers: { Authorization: `Bearer ${token}` } });
    const seen = new Map();
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      if (m.type === 'entry') seen.set(m.entry.seq, performance.now());
      // The drawer's acknowledgement: its ref names the sequence number the stroke got.
      if (m.type === 'entry' && m.ref) seen.set(m.ref, m.entry.seq);
      if (m.type === 'welcome') seen.set('welcome', true);
    });
    ws.send(JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION, client: 'script', image, name }));
    await until(() => seen.get('welcome'), 'a welcome');
    return { ws, seen };
  };
  const drawer = await join(a.url, 'drawer');
  const watcher = await join(bUrl, 'watcher');
  const latencies = [];
  for (let k = 0; k < STROKES; k++) {
    const sent = performance.now();
    const drawing = {
      op: 'add',
      class: 1,
      width: 2,
      points: [
        [k % 200, 10],
        [k % 200, 40],
      ],
    };
    drawer.ws.send(JSON.stringify({ type: 'draw', ref: `s${k}`, drawing }));
    const seq = await until(() => drawer.seen.get(`s${k}`), 'the acknowledgement');
    const arrived = await until(() => watcher.seen.get(seq), 'the stroke on the other node');
    latencies.push(arrived - sent);
  }
  results.fanout = { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: Math.max(...latencies) };
  log(`stroke fan-out across 2 nodes: ${JSON.stringify(results.fanout)}`);
  drawer.ws.close();
  watcher.ws.close();
  const exited = new Promise((resolve) => b.once('exit', resolve));
  b.kill('SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
  b.kill('SIGKILL');
  await a.close();
} finally {
  await redis.stop();
  pg.stop();
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(results));
process.exit(0);
