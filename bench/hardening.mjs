// Hardening figures (part of `npm run bench -- bridge`, or alone: node bench/hardening.mjs): GET /api/info's worst
// latency while a 20000-point stroke is painted on a 30000 x 30000 image and while a 1000-ROI label set is converted,
// memory per idle WebSocket, and how many connections the bridge holds before it refuses more (503).
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { polygonsToRois, writeOmeZarrFromSource, writeRoiZip } from '@impartial/shared';
import { FileSystemStore } from '@impartial/shared/node';
import WebSocket from 'ws';
import { serve } from './serve.mjs';

const TOKEN = 'bench';
const SIDE = Number(process.env.BENCH_HUGE_SIDE ?? 30000);
const log = (m) => process.stderr.write(`${m}\n`);

const call = (url, p, init = {}) =>
  fetch(`${url}${p}`, { ...init, headers: { Authorization: `Bearer ${TOKEN}`, ...init.headers } });
const api = async (url, p, init = {}) => {
  const r = await call(url, p, { ...init, headers: { 'Content-Type': 'application/json', ...init.headers } });
  if (!r.ok) throw new Error(`${p}: ${r.status} ${await r.text()}`);
  return r.json();
};

/** GET /api/info back to back while `work` runs: the worst and median latency (ms). */
async function infoLatency(url, work) {
  let done = false;
  const settled = work.finally(() => {
    done = true;
  });
  const times = [];
  do {
    const t0 = performance.now();
    await call(url, '/api/info');
    times.push(performance.now() - t0);
  } while (!done);
  await settled;
  times.sort((a, b) => a - b);
  return { worstMs: times.at(-1), p50Ms: times[times.length >> 1], n: times.length };
}

/** A zero-valued 1-channel uint8 image of side x side, read in bands. */
const zeros = (side) => ({
  width: side,
  height: side,
  channels: 1,
  dtype: 'uint8',
  async readRows(_y, rows) {
    return [new Uint8Array(rows * side)];
  },
});

/** A 20000-point stroke wandering over the image (width 32: ~30 Mi pixel visits, under the stroke cap). */
function wanderingStroke(side) {
  const points = [];
  for (let i = 0; i < 20_000; i++) {
    const t = i / 20_000;
    points.push([side * (0.1 + 0.8 * t), side * (0.5 + 0.3 * Math.sin(t * 40))]);
  }
  return { op: 'add', class: 1, width: 32, points };
}

/** 1000 round cells of radius 8 on a grid, as an ImageJ ROI set. */
function roiSet() {
  const cells = new Map();
  for (let k = 0; k < 1000; k++) {
    const cx = 20 + (k % 40) * 24,
      cy = 20 + Math.floor(k / 40) * 24;
    cells.set(
      k + 1,
      Array.from({ length: 16 }, (_, i) => [cx + 8 * Math.cos(i / 2.55), cy + 8 * Math.sin(i / 2.55)]),
    );
  }
  return writeRoiZip(polygonsToRois(cells));
}

const dir = mkdtempSync(path.join(tmpdir(), 'impartial-bench-hardening-'));
const results = {};
log(`writing a ${SIDE} x ${SIDE} x 1 OME-Zarr of zeros to import by path`);
const huge = path.join(dir, 'huge.ome.zarr');
await writeOmeZarrFromSource(new FileSystemStore(huge), zeros(SIDE), { name: 'huge' });
const { child, url } = await serve(path.join(dir, 'data'), TOKEN, ['--import-root', dir]);
try {
  await api(url, '/api/projects', { method: 'POST', body: JSON.stringify({ name: 'bench', id: 'h' }) });
  log('importing it');
  const image = await api(url, '/api/projects/h/images', { method: 'POST', body: JSON.stringify({ path: huge }) });

  log('a 20000-point stroke (width 32) on it, and an undo');
  const stroke = api(url, `/api/images/${image.id}/strokes`, {
    method: 'POST',
    body: JSON.stringify({ drawing: wanderingStroke(SIDE) }),
  });
  // The stroke is stored when the POST answers; the worker paints and writes it after. Reading the
  // scribbles (its smallest level) waits for that: the bridge flushes the raster before it reads.
  const written = () => call(url, `/api/images/${image.id}/scribbles.tif?level=${image.levels - 1}`);
  results.infoDuringHugeStroke = await infoLatency(url, stroke.then(written));
  const undone = api(url, `/api/images/${image.id}/undo`, { method: 'POST', body: '{}' });
  results.infoDuringHugeUndo = await infoLatency(url, undone.then(written));

  log('a 1000-ROI label set over MONAI PUT /datastore/label');
  const labelled = await api(url, '/api/projects/h/images', {
    method: 'POST',
    body: JSON.stringify({ path: huge, name: 'rois' }),
  });
  const labels = new FormData();
  labels.append('label', new Blob([roiSet()]), 'cells.zip');
  labels.append('params', '{}');
  const upload = call(url, `/datastore/label?image=${labelled.id}&tag=final`, { method: 'PUT', body: labels });
  results.infoDuring1000Rois = await infoLatency(url, upload);
  results.rois1000Status = (await upload).status;

  // 30: under the bridge's cap of WebSockets per client address (32).
  log('memory per idle WebSocket (30 sockets joined to the image)');
  const memory = async () => (await api(url, '/api/health')).memoryMb;
  const before = await memory();
  const sockets = [];
  for (let i = 0; i < 30; i++) {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/ws?token=${TOKEN}`);
    await new Promise((r, j) => {
      ws.once('open', r);
      ws.once('error', j);
    });
    const welcome = new Promise((r) => ws.once('message', r));
    ws.send(JSON.stringify({ type: 'hello', protocol: 1, client: 'script', image: image.id, name: `idle${i}` }));
    await welcome;
    sockets.push(ws);
  }
  const after = await memory();
  results.idleWebSocketKb = {
    rss: ((after.rss - before.rss) * 1024) / sockets.length,
    heap: ((after.heapUsed - before.heapUsed) * 1024) / sockets.length,
  };
  for (const ws of sockets) ws.close();

  log('connections held before the bridge refuses more');
  const held = [];
  let refusedAt = null;
  const port = Number(new URL(url).port);
  const request = `GET /api/info HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`;
  while (refusedAt === null && held.length < 5000) {
    // Batches of keep-alive connections, each with one request answered: the bridge answers the
    // first connection over its cap with 503.
    const batch = [];
    for (let k = 0; k < 50; k++) {
      const socket = connect(port, '127.0.0.1');
      const index = held.length;
      held.push(socket);
      batch.push(
        new Promise((resolve) => {
          socket.once('data', (d) => {
            if (refusedAt === null && /^HTTP\/1\.1 503/.test(d.toString())) refusedAt = index;
            resolve();
          });
          socket.once('error', resolve);
          socket.once('close', resolve);
        }),
      );
      socket.write(request);
    }
    await Promise.all(batch);
  }
  results.connectionsHeldBeforeRefusing = refusedAt;
  for (const s of held) s.destroy();
} finally {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited; // the bridge may still be writing into dir
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(results));
