import assert from 'node:assert/strict';
import { symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SYSTEM, startBridge } from '@impartial/bridge-server';
import { PROTOCOL_VERSION, Random } from '@impartial/shared';
import WebSocket from 'ws';
import { folderOf, projectWithImage, startTestBridge, type TestBridge, TestClient } from '../helpers/bridge.js';
import { rawRequest } from '../helpers/http.js';
import { waitFor } from '../helpers/wait.js';

/** Resolves with the HTTP status a refused WebSocket upgrade got, or 101 when it opened. */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => {});
  });
}

describe('bridge security', () => {
  let t: TestBridge;
  let image: string;
  let base: string;
  before(async () => {
    t = await startTestBridge({ allowOrigins: ['http://viewer.example:3000'] });
    image = (await projectWithImage(t, 64, 2)).id;
    base = t.bridge.url;
  });
  after(async () => {
    await t.stop();
  });

  const alive = async () => {
    const r = await t.api('/api/info');
    assert.equal(r.status, 200, 'the bridge still answers');
  };

  it('serves nothing without the token, over HTTP or WebSocket', async () => {
    for (const p of ['/', '/api/projects', `/zarr/images/${image}/.zattrs`, `/fiji/hello?image=${image}`, '/nope']) {
      const r = await rawRequest(`${base}${p}`, {});
      assert.equal(r.status, 401, `${p} without a token`);
      assert.match(r.body, /token/);
    }
    assert.equal(
      (await rawRequest(`${base}/api/projects`, { headers: { Authorization: 'Bearer wrong' } })).status,
      401,
    );
    assert.equal(await upgradeStatus(`${base.replace('http', 'ws')}/ws`, {}), 401);
    assert.equal(await upgradeStatus(`${base.replace('http', 'ws')}/ws?token=wrong`, {}), 401);
    assert.equal(await upgradeStatus(`${base.replace('http', 'ws')}/ws?token=${t.bridge.token}`, {}), 101);
  });

  it('takes the token as Bearer, as a raw Authorization header, in the query, or as a /t/ path prefix', async () => {
    const token = t.bridge.token!;
    assert.equal(
      (await rawRequest(`${base}/api/projects`, { headers: { Authorization: `Bearer ${token}` } })).status,
      200,
    );
    assert.equal((await rawRequest(`${base}/api/projects`, { headers: { Authorization: token } })).status, 200);
    assert.equal((await rawRequest(`${base}/api/projects?token=${token}`, {})).status, 200);
    assert.equal((await rawRequest(`${base}/t/${token}/zarr/images/${image}/.zattrs`, {})).status, 200);
  });

  it('refuses a foreign Origin and a foreign Host (DNS rebinding), over HTTP and WebSocket', async () => {
    const token = t.bridge.token!;
    const evil = await rawRequest(`${base}/api/projects?token=${token}`, {
      headers: { Origin: 'http://evil.example' },
    });
    assert.equal(evil.status, 403);
    assert.match(evil.body, /origin http:\/\/evil\.example/);
    assert.equal(
      (await rawRequest(`${base}/api/projects?token=${token}`, { headers: { Origin: 'null' } })).status,
      403,
    );
    const own = await rawRequest(`${base}/api/projects?token=${token}`, { headers: { Origin: base } });
    assert.equal(own.status, 200, "the bridge's own origin");
    const answer = await rawRequest(`${base}/api/projects?token=${token}`, {
      headers: { Origin: 'http://viewer.example:3000' },
    });
    const allowed = { status: answer.status, cors: answer.headers['access-control-allow-origin'] };
    assert.deepEqual(
      allowed,
      { status: 200, cors: 'http://viewer.example:3000' },
      'an --allow-origin origin gets CORS',
    );
    const rebound = await rawRequest(`${base}/api/projects?token=${token}`, {
      headers: { Host: `attacker.example:${t.bridge.port}` },
    });
    assert.equal(rebound.status, 403);
    assert.match(rebound.body, /DNS rebinding/);
    assert.equal(
      (await rawRequest(`${base}/api/projects?token=${token}`, { headers: { Host: '127.0.0.1:1' } })).status,
      403,
      'wrong port in Host',
    );
    assert.equal(
      await upgradeStatus(`${base.replace('http', 'ws')}/ws?token=${token}`, { Origin: 'http://evil.example' }),
      403,
    );
    assert.equal(
      await upgradeStatus(`${base.replace('http', 'ws')}/ws?token=${token}`, { Host: `evil.example:${t.bridge.port}` }),
      403,
    );
    await alive();
  });

  it('returns no file for ../ tricks, encoded or not, and follows no symlink out of a folder', async () => {
    const token = t.bridge.token!;
    const dir = folderOf(await t.bridge.services.images.zarrFiles(SYSTEM, image, '.zattrs'));
    await writeFile(path.join(t.dir, 'secret.txt'), 'SECRET');
    await symlink(path.join(t.dir, 'secret.txt'), path.join(dir, 'link.txt'));
    const attempts = [
      `/zarr/images/${image}/../../impartial.sqlite`,
      `/zarr/images/${image}/..%2F..%2Fimpartial.sqlite`,
      `/zarr/images/${image}/%2e%2e/%2e%2e/impartial.sqlite`,
      `/zarr/images/${image}/..%252F..%252Fimpartial.sqlite`,
      `/zarr/images/${image}/%2Fetc%2Fpasswd`,
      `/zarr/images/${image}/link.txt`,
      `/zarr/images/..%2F..%2F/x`,
      `/zarr/images/${image}/%00`,
      `/zarr/predictions/${image}/..%2Fx/.zattrs`,
      `/api/models/..%2F..%2Fimpartial/files/model.json`,
      `/zarr/images/${image}/..\\..\\impartial.sqlite`,
    ];
    for (const p of attempts) {
      const r = await rawRequest(`${base}${p}${p.includes('?') ? '&' : '?'}token=${token}`, {
        path: `${p}?token=${token}`,
      });
      assert.ok([400, 403, 404].includes(r.status), `${p} -> ${r.status}`);
      assert.doesNotMatch(r.body, /SECRET|SQLite format|root:/, `${p} leaked a file`);
      assert.match(r.body, /"error"/);
    }
    const imp = await t.api('/api/projects/p1/images', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ path: '/etc/passwd' }),
    });
    assert.equal(imp.status, 404, 'imports only from the import roots (answered as a missing file)');
    assert.match(await imp.text(), /no such file in the folders this bridge imports from/);
    await alive();
  });

  it('answers bad input with a 4xx JSON error that names the problem, and keeps serving', async () => {
    const json = (p: string, body: string, method = 'POST') =>
      t.api(p, { method, headers: { 'Content-Type': 'application/json' }, body });
    let r = await json(`/api/images/${image}/strokes`, '{"drawing": ');
    assert.equal(r.status, 400);
    assert.match(((await r.json()) as { error: { message: string } }).error.message, /not valid JSON/);
    r = await json(
      `/api/images/${image}/strokes`,
      JSON.stringify({ drawing: { op: 'add', class: 1, width: -3, points: [[1, 2]] } }),
    );
    assert.equal(r.status, 400);
    assert.match(((await r.json()) as { error: { message: string } }).error.message, /width/);
    r = await json('/api/infer', JSON.stringify({ image, passes: 'many' }));
    assert.equal(r.status, 400);
    assert.match(await r.text(), /passes/);
    r = await json('/api/infer', JSON.stringify({ image, viewportOnly: true }));
    assert.equal(r.status, 400);
    assert.match(await r.text(), /viewportOnly needs a viewport/);
    r = await t.api('/api/images/no-such/strokes');
    assert.equal(r.status, 404);
    r = await t.api(`/api/images/${'x'.repeat(200)}`);
    assert.equal(r.status, 400);
    r = await t.api('/api/projects', { method: 'DELETE' });
    assert.equal(r.status, 405);
    r = await t.api('/api/projects/p1/images', {
      method: 'POST',
      headers: { 'Content-Type': 'image/png' },
      body: 'definitely not an image',
    });
    assert.equal(r.status, 415);
    assert.match(await r.text(), /neither a TIFF nor a PNG/);
    await alive();
  });

  it('limits upload sizes', async () => {
    const small = await startTestBridge({ maxUploadMb: 1 });
    try {
      await small.api('/api/projects', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'x', id: 'x' }),
      });
      const r = await small.api('/api/projects/x/images', {
        method: 'POST',
        headers: { 'Content-Type': 'image/tiff' },
        body: Buffer.alloc(2 * 1024 * 1024, 1),
      });
      assert.equal(r.status, 413);
      assert.match(await r.text(), /limit/);
      assert.equal((await small.api('/api/info')).status, 200);
    } finally {
      await small.stop();
    }
  });

  it('refuses --no-auth unless the host is loopback', async () => {
    await assert.rejects(
      startBridge({ data: path.join(t.dir, 'other'), host: '0.0.0.0', port: 0, token: null }),
      /--no-auth is refused unless/,
    );
    const open = await startBridge({ data: path.join(t.dir, 'noauth'), host: '127.0.0.1', port: 0, token: null });
    try {
      assert.equal((await fetch(`${open.url}/api/projects`)).status, 200, 'loopback without a token is allowed');
      assert.equal(open.publicUrl.includes('token'), false);
    } finally {
      await open.close();
    }
  });

  it('survives fuzzed WebSocket messages: random JSON, wrong types, binary and huge frames', async () => {
    const rng = new Random(7);
    const values = [null, true, 0, -1, 1e308, 'x', '', [], {}, [[1, 2]], { type: 'draw' }, 'hello', NaN];
    const pick = <T>(a: readonly T[]) => a[Math.floor(rng.next() * a.length)]!;
    const types = ['hello', 'draw', 'undo', 'redo', 'view', 'train-start', 'train-stop', 'infer', 'ping', 'nope', 42];
    const c = await TestClient.join(t.bridge, image, 'fuzzer');
    for (let k = 0; k < 300; k++) {
      const m: Record<string, unknown> = { type: pick(types) };
      for (const key of ['drawing', 'ref', 'target', 'view', 'options', 'request', 'protocol', 'image', 'points'])
        if (rng.next() < 0.4) m[key] = pick(values);
      if (rng.next() < 0.3)
        m.drawing = {
          op: pick(['add', 'erase', 'x']),
          class: pick([1, 2, 0, 300, 'a']),
          width: pick([1, 0, -5, 1e9]),
          points: pick([[], [[1, 2]], [[NaN, 1]], [['a', 'b']], [[1e12, 1]]]),
        };
      c.ws.send(rng.next() < 0.1 ? '{not json' : JSON.stringify(m));
    }
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    c.ws.send(JSON.stringify({ type: 'ping', t: 1 }));
    await c.next((m) => m.type === 'pong', 10_000);
    assert.ok(c.of('error').length > 200, 'each bad message got an error');
    assert.ok(
      c.of('error').every((e) => e.code !== 'internal'),
      `no internal errors: ${c
        .of('error')
        .filter((e) => e.code === 'internal')
        .map((e) => e.message)
        .join('; ')}`,
    );
    const big = await TestClient.join(t.bridge, image, 'huge');
    big.ws.send(
      JSON.stringify({
        type: 'draw',
        drawing: { op: 'add', class: 1, width: 1, points: [[0, 0]] },
        pad: 'x'.repeat(5 * 1024 * 1024),
      }),
    );
    const closed = await waitFor(() => big.closed, {
      timeoutMs: 10_000,
      what: 'the bridge to close the huge connection',
    });
    assert.equal(closed.code, 1009, 'a frame over the limit closes that connection (message too big)');
    const ok = await TestClient.join(t.bridge, image, 'after');
    ok.send({ type: 'hello', protocol: PROTOCOL_VERSION, client: 'viewer', image });
    const err = await ok.next((m) => m.type === 'error', 5000, 'error');
    assert.match(err.message, /already sent/);
    c.close();
    ok.close();
    await alive();
  });
});
