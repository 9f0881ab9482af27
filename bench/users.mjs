// Multi-user figures (npm run bench -- users, or alone: node bench/users.mjs): a bridge under
// `serve --users` with 50 accounts in one read-annotate group, 2 viewers each (100 WebSockets) on
// one shared image; login time (argon2id), stroke fan-out to the other 99 viewers, and the event
// loop's lag and fan-out again while two accounts train at once.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { syntheticCells } from '@impartial/shared';
import WebSocket from 'ws';
import { countsTiff } from './counts-tiff.mjs';
import { quantile } from './stats.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(repo, 'bridge-server', 'bin', 'impartial.js');
const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 50);
const VIEWERS = 2;
const STROKES = Number(process.env.BENCH_USER_STROKES ?? 100);
const log = (m) => process.stderr.write(`${m}\n`);
const stats = (xs) => ({ p50: quantile(xs, 0.5), p99: quantile(xs, 0.99), max: Math.max(...xs), n: xs.length });
const password = (name) => `bench-password-${name}`;

function tiff(size, seed) {
  return countsTiff(syntheticCells({ width: size, height: size, channels: 2, seed }).image);
}

function runCli(args, input) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['pipe', 'ignore', 'inherit'] });
    child.stdin.end(input ?? '');
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`impartial ${args[0]} exited ${code}`))));
  });
}

function serveUsers(data) {
  const child = spawn(process.execPath, [cli, 'serve', '--users', '--data', data, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/[^/\s]+)\//.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.on('exit', (c) => reject(new Error(`serve exited ${c}`)));
  });
}

const dir = mkdtempSync(path.join(tmpdir(), 'impartial-bench-users-'));
const data = path.join(dir, 'data');
await runCli(['users', 'add', 'root', '--admin', '--data', data, '--password-stdin'], password('root'));
await runCli(['groups', 'add', 'lab', '--level', 'read-annotate', '--data', data]);
const { child, url } = await serveUsers(data);
const results = { accounts: ACCOUNTS, viewers: ACCOUNTS * VIEWERS };
try {
  const call = async (token, p, init = {}) => {
    const r = await fetch(`${url}${p}`, {
      ...init,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...init.headers },
    });
    if (!r.ok) throw new Error(`${p}: ${r.status} ${await r.text()}`);
    return r.json();
  };
  const login = async (name) => {
    const r = await fetch(`${url}/login`, {
      method: 'POST',
      body: new URLSearchParams({ username: name, password: password(name) }),
    });
    if (!r.ok) throw new Error(`login ${name}: ${r.status}`);
    return (await r.json()).token;
  };
  const root = await login('root');
  const names = Array.from({ length: ACCOUNTS }, (_, i) => `user${String(i).padStart(2, '0')}`);
  log(`making ${ACCOUNTS} accounts in group lab (read-annotate)`);
  for (const name of names) {
    await call(root, '/api/admin/users', { method: 'POST', body: JSON.stringify({ name, password: password(name) }) });
    await call(root, '/api/admin/members', {
      method: 'POST',
      body: JSON.stringify({ group: 'lab', user: name, home: 'true' }),
    });
  }
  log('login time (argon2id verify), each account once');
  const times = [];
  const tokens = {};
  for (const name of names) {
    const t0 = performance.now();
    tokens[name] = await login(name);
    times.push(performance.now() - t0);
  }
  results.loginMs = stats(times);
  // A shared project of the lab, made by user00 (its home group is lab), one 512 x 512 image.
  await call(tokens.user00, '/api/projects', {
    method: 'POST',
    body: JSON.stringify({ name: 'shared', id: 'shared' }),
  });
  const image = await call(tokens.user00, '/api/projects/shared/images?name=shared', {
    method: 'POST',
    headers: { 'Content-Type': 'image/tiff' },
    body: tiff(512, 1),
  });
  log(`${ACCOUNTS * VIEWERS} viewers join the shared image (from several loopback addresses: 32 per address at most)`);
  const clients = [];
  for (const [i, name] of names.entries()) {
    for (let v = 0; v < VIEWERS; v++) {
      const k = clients.length;
      const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`, {
        headers: { Authorization: `Bearer ${tokens[name]}` },
        localAddress: `127.0.0.${2 + (k % 8)}`,
      });
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      const c = { ws, name, handlers: new Set() };
      ws.on('message', (d) => {
        const m = JSON.parse(d.toString());
        for (const h of c.handlers) h(m);
      });
      clients.push(c);
      const welcome = wait(c, (m) => m.type === 'welcome');
      ws.send(JSON.stringify({ type: 'hello', protocol: 1, client: 'viewer', image: image.id, name: `${name}-${v}` }));
      await welcome;
    }
    if (i % 10 === 9) log(`  ${clients.length} joined`);
  }

  /** Strokes from rotating viewers: time until every other viewer has the entry. */
  async function fanout(count, offset) {
    const out = [];
    for (let k = 0; k < count; k++) {
      const sender = clients[(k * 7) % clients.length];
      const ref = `r${offset + k}`;
      const y = 10 + ((offset + k) % 480);
      const points = Array.from({ length: 20 }, (_, i) => [10 + i * 4, y]);
      const t0 = performance.now();
      const others = clients
        .filter((c) => c !== sender)
        .map((c) => wait(c, (m) => m.type === 'entry' && m.entry.points?.[0]?.[1] === y && m.ref === undefined));
      sender.ws.send(
        JSON.stringify({ type: 'draw', ref, drawing: { op: 'add', class: 1 + (k % 2), width: 3, points } }),
      );
      await Promise.all(others);
      out.push(performance.now() - t0);
    }
    return stats(out);
  }
  await fanout(10, 0);
  log(`stroke fan-out to ${clients.length - 1} viewers, idle bridge`);
  results.fanout = await fanout(STROKES, 1000);

  log('two accounts train at once (their own projects, 40 s each), strokes go on');
  for (const name of ['user01', 'user02']) {
    await call(tokens[name], '/api/projects', { method: 'POST', body: JSON.stringify({ name, id: name }) });
    const img = await call(tokens[name], `/api/projects/${name}/images?name=${name}`, {
      method: 'POST',
      headers: { 'Content-Type': 'image/tiff' },
      body: tiff(256, 2),
    });
    for (const cls of [1, 2]) {
      const points = [
        [20, 20 + cls * 60],
        [200, 40 + cls * 60],
      ];
      await call(tokens[name], `/api/images/${img.id}/strokes`, {
        method: 'POST',
        body: JSON.stringify({ drawing: { op: 'add', class: cls, width: 5, points } }),
      });
    }
    await call(tokens[name], `/api/projects/${name}/train`, {
      method: 'POST',
      body: JSON.stringify({ seconds: 40, init: 'scratch' }),
    });
  }
  await call(root, '/api/health?reset=1');
  results.fanoutWhileTraining = await fanout(Math.round(STROKES / 2), 5000);
  // Five more seconds of requests while both still train, so the lag has samples enough.
  const info = [];
  for (const end = performance.now() + 5000; performance.now() < end; ) {
    const t0 = performance.now();
    await call(root, '/api/info');
    info.push(performance.now() - t0);
  }
  results.infoWhileTraining = stats(info);
  results.eventLoopWhileTraining = (await call(root, '/api/health')).eventLoopLagMs;
  results.trainingsRunning = (await call(root, '/api/health')).jobs.length;
  for (const c of clients) c.ws.close();
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(results));

function wait(c, pred, ms = 120_000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      c.handlers.delete(h);
      reject(new Error(`timeout waiting on ${c.name}`));
    }, ms);
    const h = (m) => {
      if (pred(m)) {
        clearTimeout(t);
        c.handlers.delete(h);
        resolve(m);
      }
    };
    c.handlers.add(h);
  });
}
