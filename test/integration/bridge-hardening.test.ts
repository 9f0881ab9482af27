import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { projectWithImage, startTestBridge, syntheticTiff, type TestBridge, TestClient } from '../helpers/bridge.js';
import { impartial } from '../helpers/cli.js';
import { multipartBody, rawRequest, upgradeAnswer } from '../helpers/http.js';
import { killHard, serveWith } from '../helpers/serve.js';
import { waitFor } from '../helpers/wait.js';

const ALLOWED = 'http://viewer.example:3000';
const EVIL = 'http://evil.example';

/** The bridge's temporary folder, where uploads are streamed. */
const tempFiles = (t: TestBridge) => readdir(path.join(t.bridge.dataDir, 'tmp'));
const tempEmpty = (t: TestBridge, what: string) =>
  waitFor(async () => (await tempFiles(t)).length === 0, { timeoutMs: 10_000, what });

/** A stroke as ImageJ's macro sends it: one chunk, `op|class|width|points`. */
const fijiStroke = (image: string, id: string) =>
  `/fiji/stroke?image=${image}&id=${id}&i=0&n=1&d=${encodeURIComponent('add|1|2|1,1;20,20')}`;

describe('bridge hardening: cross-site requests under --no-auth', () => {
  let t: TestBridge;
  let image: string;
  before(async () => {
    t = await startTestBridge({ token: null, allowOrigins: [ALLOWED] });
    image = (await projectWithImage(t, 64, 3)).id;
  });
  after(async () => {
    await t.stop();
  });
  const strokeCount = async () =>
    ((await (await t.api(`/api/images/${image}/strokes`)).json()) as { entries: unknown[] }).entries.length;
  const json = (body: unknown) => JSON.stringify({ drawing: body });
  const drawing = {
    op: 'add',
    class: 1,
    width: 2,
    points: [
      [3, 3],
      [30, 30],
    ],
  };

  it('refuses a Fiji action another site made a browser send, and stores nothing', async () => {
    const before = await strokeCount();
    const attempts: Array<Record<string, string>> = [
      { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'no-cors', Referer: `${EVIL}/page.html` },
      { 'Sec-Fetch-Site': 'cross-site' },
      { 'Sec-Fetch-Site': 'same-site', Referer: 'http://127.0.0.1:9/' },
      { Referer: `${EVIL}/page.html` },
      { Origin: EVIL },
    ];
    for (const [k, headers] of attempts.entries()) {
      const r = await rawRequest(`${t.bridge.url}${fijiStroke(image, `evil${k}`)}`, { headers });
      assert.equal(r.status, 403, `${JSON.stringify(headers)} -> ${r.status} ${r.body}`);
      assert.match(r.body, /error=.*(refused|not allowed)/, 'the answer says why');
      assert.match(r.body, /code=forbidden/);
    }
    const undo = await rawRequest(`${t.bridge.url}/fiji/undo?image=${image}&id=u1`, {
      headers: { 'Sec-Fetch-Site': 'cross-site' },
    });
    assert.equal(undo.status, 403);
    assert.match(undo.body, /Sec-Fetch-Site: cross-site/);
    assert.equal(await strokeCount(), before, 'no stroke was stored');
  });

  it('refuses a cross-site write, and stores nothing', async () => {
    const before = await strokeCount();
    const attempts: Array<Record<string, string>> = [
      { 'Sec-Fetch-Site': 'cross-site', Origin: EVIL },
      { 'Sec-Fetch-Site': 'cross-site' },
      { 'Sec-Fetch-Site': 'same-site' },
      { Referer: `${EVIL}/form.html` },
    ];
    for (const headers of attempts) {
      const r = await rawRequest(`${t.bridge.url}/api/images/${image}/strokes`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain', ...headers },
        body: json(drawing),
      });
      assert.equal(r.status, 403, `${JSON.stringify(headers)} -> ${r.status} ${r.body}`);
      assert.match(r.body, /"code":"forbidden"/);
      assert.match(r.body, /refused|not allowed/);
    }
    assert.equal(await strokeCount(), before, 'no stroke was stored');
  });

  it('keeps serving clients that send no browser headers (ImageJ, curl), own pages and allowed origins', async () => {
    const before = await strokeCount();
    const plain = await rawRequest(`${t.bridge.url}${fijiStroke(image, 'imagej1')}`);
    assert.equal(plain.status, 200, plain.body);
    assert.match(plain.body, /ok=1/);
    assert.equal(await strokeCount(), before + 1, 'the stroke ImageJ sent is stored');
    const post = (headers: Record<string, string>) =>
      rawRequest(`${t.bridge.url}/api/images/${image}/strokes`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
        body: json(drawing),
      });
    assert.equal((await post({})).status, 201, 'a script');
    assert.equal((await post({ Origin: ALLOWED, 'Sec-Fetch-Site': 'cross-site' })).status, 201, 'an allowed origin');
    assert.equal((await post({ Origin: ALLOWED, 'Sec-Fetch-Site': 'same-site' })).status, 201, 'on a sibling port');
    const own = { Origin: t.bridge.url, 'Sec-Fetch-Site': 'same-origin' };
    assert.equal((await post(own)).status, 201, "the bridge's own page");
    assert.equal((await post({ 'Sec-Fetch-Site': 'none' })).status, 201, 'typed by the user');
    const fromAllowed = await rawRequest(`${t.bridge.url}${fijiStroke(image, 'allowed1')}`, {
      headers: { 'Sec-Fetch-Site': 'cross-site', Referer: `${ALLOWED}/app/` },
    });
    assert.equal(fromAllowed.status, 200, 'an allowed page vouches by its Referer');
    assert.equal(await strokeCount(), before + 7);
  });

  it('refuses a cross-site WebSocket unless an allowed origin opens it', async () => {
    const ws = `${t.bridge.url.replace('http', 'ws')}/ws`;
    const refused = await upgradeAnswer(ws, { 'Sec-Fetch-Site': 'cross-site' });
    assert.equal(refused.status, 403);
    assert.match(refused.body, /Sec-Fetch-Site: cross-site/);
    assert.equal((await upgradeAnswer(ws, { 'Sec-Fetch-Site': 'same-site' })).status, 403);
    assert.equal((await upgradeAnswer(ws, { Origin: ALLOWED, 'Sec-Fetch-Site': 'cross-site' })).status, 101);
    assert.equal((await upgradeAnswer(ws, {})).status, 101, 'a script');
  });
});

describe('bridge hardening: multipart and upload temp files', () => {
  let t: TestBridge;
  before(async () => {
    t = await startTestBridge();
  });
  after(async () => {
    await t.stop();
  });
  const tiff = syntheticTiff(32, 4).bytes;
  const put = (parts: Parameters<typeof multipartBody>[0], image = 'up1') => {
    const { body, contentType } = multipartBody(parts);
    const init = { method: 'PUT', headers: { 'Content-Type': contentType }, body: new Uint8Array(body) };
    return t.api(`/datastore/image?image=${image}`, init);
  };

  it('takes a part named __proto__ as any other name (400 for the missing part, not 500)', async () => {
    const r = await put([{ name: '__proto__', filename: 'x.tif', bytes: tiff }]);
    assert.equal(r.status, 400, await r.clone().text());
    assert.match(await r.text(), /field named file/);
    const ok = await put([
      { name: '__proto__', value: '{"a": 1}' },
      { name: 'file', filename: 'x.tif', bytes: tiff },
    ]);
    assert.equal(ok.status, 200, await ok.text());
    await tempEmpty(t, 'the temp folder to be empty after the __proto__ uploads');
  });

  it('refuses a repeated part with 400 naming it, and keeps no temp file', async () => {
    let r = await put([
      { name: 'file', filename: 'a.tif', bytes: tiff },
      { name: 'file', filename: 'b.tif', bytes: tiff },
    ]);
    assert.equal(r.status, 400);
    assert.match(await r.text(), /two parts named file/);
    await tempEmpty(t, 'the temp folder to be empty after a refused upload');
    r = await put([
      { name: 'params', value: '{}' },
      { name: 'params', value: '{}' },
      { name: 'file', filename: 'a.tif', bytes: tiff },
    ]);
    assert.equal(r.status, 400);
    assert.match(await r.text(), /two parts named params/);
    await tempEmpty(t, 'the temp folder to be empty after a refused upload');
  });

  /** Starts a request with a long declared body, sends `head`, waits for a temp file, then drops the connection. */
  const abandon = async (method: string, p: string, type: string, head: Buffer) => {
    const u = new URL(t.bridge.url);
    const req = request({
      host: u.hostname,
      port: u.port,
      method,
      path: p,
      agent: false,
      headers: {
        Authorization: `Bearer ${t.bridge.token}`,
        'Content-Type': type,
        'Content-Length': String(64 * 1024 * 1024),
      },
    });
    req.on('error', () => {});
    req.write(head);
    await waitFor(async () => (await tempFiles(t)).length > 0, {
      timeoutMs: 10_000,
      what: 'the upload to reach a temp file',
    });
    req.destroy();
  };

  it('removes the temp file of a multipart upload the client abandons', async () => {
    const boundary = 'abandoned-boundary';
    const head = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.tif"\r\n` +
          'Content-Type: image/tiff\r\n\r\n',
      ),
      Buffer.alloc(256 * 1024, 7),
    ]);
    await abandon('PUT', '/datastore/image?image=gone', `multipart/form-data; boundary=${boundary}`, head);
    await tempEmpty(t, 'the abandoned multipart upload to be removed');
    assert.equal((await t.api('/api/info')).status, 200, 'the bridge still answers');
  });

  it('removes the temp file of a raw upload the client abandons', async () => {
    await t.api('/api/projects', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'raw', id: 'raw' }),
    });
    await abandon('POST', '/api/projects/raw/images?name=gone', 'image/tiff', Buffer.alloc(256 * 1024, 7));
    await tempEmpty(t, 'the abandoned raw upload to be removed');
    assert.equal((await t.api('/api/info')).status, 200, 'the bridge still answers');
  });
});

describe('bridge hardening: connection and WebSocket limits', () => {
  it('answers past the connection cap with 503 and Retry-After, then serves again', async () => {
    const t = await startTestBridge({ connectionLimits: { maxConnections: 2, retryAfterS: 7 } });
    const idle: Socket[] = [];
    try {
      for (let k = 0; k < 2; k++) {
        const s = connect(t.bridge.port, '127.0.0.1');
        s.on('error', () => {});
        await new Promise((resolve) => s.once('connect', resolve));
        idle.push(s);
      }
      const auth = { Authorization: `Bearer ${t.bridge.token}` };
      const r = await rawRequest(`${t.bridge.url}/api/info`, { headers: auth });
      assert.equal(r.status, 503, r.body);
      assert.equal(r.headers['retry-after'], '7');
      assert.equal(r.headers.connection, 'close');
      assert.match(r.body, /"code":"busy"/);
      assert.match(r.body, /2 connections/);
      const ws = await upgradeAnswer(`${t.bridge.url.replace('http', 'ws')}/ws`, auth);
      assert.equal(ws.status, 503);
      assert.equal(ws.headers['retry-after'], '7');
      for (const s of idle) s.destroy();
      await waitFor(async () => (await rawRequest(`${t.bridge.url}/api/info`, { headers: auth })).status === 200, {
        timeoutMs: 10_000,
        what: 'the bridge to serve again once the idle connections closed',
      });
    } finally {
      for (const s of idle) s.destroy();
      await t.stop();
    }
  });

  it('closes a refused request whose body is still coming, and keeps a refused one without a body', async () => {
    const t = await startTestBridge();
    const s = connect(t.bridge.port, '127.0.0.1');
    let received = '';
    let closed = false;
    s.on('error', () => {});
    s.on('data', (d) => (received += d));
    s.on('close', () => (closed = true));
    try {
      await new Promise((resolve) => s.once('connect', resolve));
      const host = `Host: 127.0.0.1:${t.bridge.port}\r\n`;
      // Refused without a body: answered, and the kept-alive connection serves the next request.
      s.write(`GET /api/info HTTP/1.1\r\n${host}\r\n`);
      await waitFor(() => /\r\n\r\n\{.*\}$/s.test(received), { timeoutMs: 10_000, what: 'the answer to the GET' });
      assert.match(received, /^HTTP\/1\.1 401 /);
      assert.doesNotMatch(received, /\r\nConnection: close\r\n/i);
      assert.equal(closed, false);
      received = '';
      // An upload without the token that sends a little of a large body, and would trickle the rest.
      s.write(`POST /api/projects/p1/images?name=x HTTP/1.1\r\n${host}Content-Type: image/tiff\r\n`);
      s.write(`Content-Length: ${1024 ** 3}\r\n\r\n`);
      s.write(Buffer.alloc(64 * 1024));
      await waitFor(() => closed, { timeoutMs: 10_000, what: 'the bridge to close the refused upload' });
      assert.match(received, /^HTTP\/1\.1 401 /);
      assert.match(received, /\r\nConnection: close\r\n/i);
      assert.match(received, /"code":"unauthorized"/);
      assert.equal((await t.api('/api/info')).status, 200, 'the bridge still answers');
    } finally {
      s.destroy();
      await t.stop();
    }
  });

  it('refuses WebSockets past the per-address cap with 429 and Retry-After', async () => {
    const t = await startTestBridge({ connectionLimits: { maxWebSocketsPerAddress: 2 } });
    const url = `${t.bridge.url.replace('http', 'ws')}/ws`;
    const auth = { Authorization: `Bearer ${t.bridge.token}` };
    try {
      const a = await TestClient.open(t.bridge);
      const b = await TestClient.open(t.bridge);
      const third = await upgradeAnswer(url, auth);
      assert.equal(third.status, 429, third.body);
      assert.equal(third.headers['retry-after'], '5');
      assert.match(third.body, /"code":"busy"/);
      a.close();
      await waitFor(async () => (await upgradeAnswer(url, auth)).status === 101, {
        timeoutMs: 10_000,
        what: 'a WebSocket to be admitted again once one closed',
      });
      b.close();
    } finally {
      await t.stop();
    }
  });

  it('answers a message flood with busy errors, then closes the socket with 1008', async () => {
    const t = await startTestBridge({ connectionLimits: { wsMessagesPerSecond: 5, wsMessageBurst: 5 } });
    try {
      const c = await TestClient.open(t.bridge);
      for (let k = 0; k < 200; k++) c.send({ type: 'ping', t: k });
      const closed = await waitFor(() => c.closed, { timeoutMs: 10_000, what: 'the flooding socket to be closed' });
      assert.equal(closed.code, 1008);
      assert.match(closed.reason, /more than 5 messages a second/);
      const busy = c.of('error').filter((e) => e.code === 'busy');
      assert.ok(busy.length >= 1, 'messages over the rate were answered busy');
      assert.match(busy[0]!.message, /5 messages a second/);
      assert.ok(c.of('pong').length >= 5, 'the burst was served');
      const calm = await TestClient.open(t.bridge);
      calm.send({ type: 'ping', t: 1 });
      await calm.next((m) => m.type === 'pong', 10_000);
      calm.close();
    } finally {
      await t.stop();
    }
  });

  it('drops a peer that does not answer pings, and keeps one that does', async () => {
    const t = await startTestBridge({ connectionLimits: { wsPingIntervalMs: 100 } });
    try {
      const image = (await projectWithImage(t, 64, 5)).id;
      const live = await TestClient.join(t.bridge, image, 'live');
      let pings = 0;
      live.ws.on('ping', () => pings++);
      const dead = new WebSocket(`${t.bridge.url.replace('http', 'ws')}/ws`, {
        autoPong: false,
        headers: { Authorization: `Bearer ${t.bridge.token}` },
      });
      try {
        let deadPings = 0;
        let closedWith: number | null = null;
        dead.on('ping', () => deadPings++);
        dead.once('close', (code) => {
          closedWith = code;
        });
        dead.on('error', () => {});
        const code = await waitFor(() => closedWith, { timeoutMs: 10_000, what: 'the silent peer dropped' });
        assert.equal(code, 1006, 'terminated, no close handshake');
        assert.ok(deadPings >= 1, 'it was pinged before it was dropped');
        await waitFor(() => pings >= 5, { timeoutMs: 10_000, what: 'five pings to the live client' });
        assert.equal(live.ws.readyState, WebSocket.OPEN, 'a client that answers pings stays');
      } finally {
        dead.terminate();
        live.close();
      }
    } finally {
      await t.stop();
    }
  });
});

describe('bridge hardening: response headers and page policy', () => {
  let t: TestBridge;
  let viewerDir: string;
  const inline = "document.body.dataset.ran = 'yes';";
  before(async () => {
    viewerDir = await mkdtemp(path.join(tmpdir(), 'viewer-files-'));
    await writeFile(
      path.join(viewerDir, 'index.html'),
      `<!doctype html><title>v</title><script type="module" src="./main.js"></script><script>${inline}</script>`,
    );
    await writeFile(path.join(viewerDir, 'main.js'), 'export {};\n');
    t = await startTestBridge({ allowOrigins: [ALLOWED], viewerDir });
  });
  after(async () => {
    await t.stop();
    await rm(viewerDir, { recursive: true, force: true });
  });

  it('sends Referrer-Policy and nosniff on every answer, a page policy on HTML, none-policy on data', async () => {
    const image = (await projectWithImage(t, 64, 6)).id;
    const auth = { Authorization: `Bearer ${t.bridge.token}` };
    const answers = {
      landing: await rawRequest(`${t.bridge.url}/`, { headers: auth }),
      viewer: await rawRequest(`${t.bridge.url}/viewer/`),
      viewerWithToken: await rawRequest(t.bridge.viewerUrl),
      script: await rawRequest(`${t.bridge.url}/viewer/main.js`),
      json: await rawRequest(`${t.bridge.url}/api/projects`, { headers: auth }),
      zarr: await rawRequest(`${t.bridge.url}/zarr/images/${image}/.zattrs`, { headers: auth }),
      fiji: await rawRequest(`${t.bridge.url}/fiji/hello?image=${image}`, { headers: auth }),
      notFound: await rawRequest(`${t.bridge.url}/nope`, { headers: auth }),
      noToken: await rawRequest(`${t.bridge.url}/api/projects`),
      preflight: await rawRequest(`${t.bridge.url}/api/projects`, {
        method: 'OPTIONS',
        headers: { Origin: ALLOWED, 'Access-Control-Request-Method': 'POST' },
      }),
      upgradeRefused: await upgradeAnswer(`${t.bridge.url.replace('http', 'ws')}/ws`),
    };
    for (const [name, r] of Object.entries(answers)) {
      assert.equal(r.headers['referrer-policy'], 'no-referrer', name);
      assert.equal(r.headers['x-content-type-options'], 'nosniff', name);
    }
    assert.equal(answers.noToken.status, 401);
    assert.equal(answers.upgradeRefused.status, 401);
    const hash = `'sha256-${createHash('sha256').update(inline).digest('base64')}'`;
    for (const name of ['landing', 'viewer', 'viewerWithToken'] as const) {
      const r = answers[name];
      assert.equal(r.status, 200, `${name}: ${r.body}`);
      assert.match(String(r.headers['content-type']), /text\/html/);
      const csp = String(r.headers['content-security-policy']);
      assert.match(csp, new RegExp(`frame-ancestors 'self' ${ALLOWED}(;|$)`), `${name}: ${csp}`);
      assert.match(csp, /script-src 'self'/, name);
      assert.doesNotMatch(csp, /script-src[^;]*'unsafe-inline'/, `${name}: no inline script but by hash`);
      if (name !== 'landing') assert.ok(csp.includes(hash), `${name}: the inline script's hash is allowed: ${csp}`);
    }
    for (const name of ['script', 'json', 'zarr', 'fiji', 'notFound'] as const) {
      const csp = String(answers[name].headers['content-security-policy']);
      assert.match(csp, /default-src 'none'/, name);
      assert.match(csp, /frame-ancestors 'none'/, name);
    }
  });

  it("serves the viewer's files without the token, and nothing else", async () => {
    assert.equal((await rawRequest(`${t.bridge.url}/viewer/`)).status, 200);
    assert.equal((await rawRequest(`${t.bridge.url}/viewer/main.js`)).status, 200);
    assert.equal((await rawRequest(`${t.bridge.url}/viewer/missing.js`)).status, 404);
    for (const p of ['/', '/api/projects', '/api/info', '/fiji/projects', '/datastore/', '/info/']) {
      assert.equal((await rawRequest(`${t.bridge.url}${p}`)).status, 401, `${p} without the token`);
    }
    assert.equal((await rawRequest(`${t.bridge.url}/viewer/main.js`, { method: 'POST' })).status, 401);
  });
});

describe('bridge hardening: import paths', () => {
  it('answers a path outside the import roots exactly as a missing one, naming no root', async () => {
    const t = await startTestBridge();
    const outside = await mkdtemp(path.join(tmpdir(), 'outside-'));
    try {
      await projectWithImage(t, 32, 7);
      const tiffPath = path.join(t.dir, 'inside.tif');
      await writeFile(tiffPath, syntheticTiff(32, 7).bytes);
      const outsideTiff = path.join(outside, 'outside.tif');
      await writeFile(outsideTiff, syntheticTiff(32, 7).bytes);
      const importPath = async (p: string) => {
        const r = await t.api('/api/projects/p1/images', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ path: p }),
        });
        return { status: r.status, body: (await r.text()).replaceAll(JSON.stringify(p).slice(1, -1), 'PATH') };
      };
      const answers = [
        await importPath(outsideTiff),
        await importPath(path.join(outside, 'missing.tif')),
        await importPath(path.join(t.dir, 'missing.tif')),
        await importPath('/etc/passwd'),
      ];
      for (const a of answers) {
        assert.deepEqual(a, answers[0], 'every unavailable path gets the same answer');
        assert.doesNotMatch(a.body, new RegExp(path.basename(t.dir)), 'the import root is not named');
      }
      assert.equal(answers[0]!.status, 404);
      assert.equal((await importPath(tiffPath)).status, 201, 'a file inside the root imports');
    } finally {
      await rm(outside, { recursive: true, force: true });
      await t.stop();
    }
  });

  it('imports from no folder unless import roots are given', async () => {
    const t = await startTestBridge({ importRoots: undefined });
    try {
      await projectWithImage(t, 32, 8);
      // Beside the data folder, inside it, and the current folder (the old default root): all unreachable.
      const beside = path.join(t.dir, 'here.tif');
      const inData = path.join(t.dir, 'data', 'here.tif');
      for (const file of [beside, inData]) await writeFile(file, syntheticTiff(32, 8).bytes);
      for (const file of [beside, inData, path.resolve('package.json')]) {
        const r = await t.api('/api/projects/p1/images', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ path: file }),
        });
        assert.equal(r.status, 404, `${file}: ${await r.clone().text()}`);
      }
    } finally {
      await t.stop();
    }
  });
});

describe('bridge hardening: impartial serve --token-file', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'token-file-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the token from a file, trimmed', async () => {
    const file = path.join(dir, 'token');
    await writeFile(file, '  s3cret-from-file_42 \n');
    await mkdir(path.join(dir, 'data'), { recursive: true });
    const args = ['--data', path.join(dir, 'data'), '--port', '0', '--token-file', file];
    const served = await serveWith(args, 's3cret-from-file_42');
    try {
      const get = (token: string) =>
        rawRequest(`${served.url}/api/projects`, { headers: { Authorization: `Bearer ${token}` } });
      assert.equal((await get('s3cret-from-file_42')).status, 200, 'the token in the file');
      assert.equal((await get('wrong')).status, 401);
    } finally {
      await killHard(served.child);
    }
  });

  it('refuses an empty token file, a missing one, and a token given twice', async () => {
    const empty = path.join(dir, 'empty');
    await writeFile(empty, ' \n');
    const data = ['--data', path.join(dir, 'data2'), '--port', '0'];
    let r = await impartial(['serve', ...data, '--token-file', empty], { timeoutMs: 30_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--token-file .* is empty/);
    r = await impartial(['serve', ...data, '--token-file', path.join(dir, 'nope')], { timeoutMs: 30_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /cannot read it \(ENOENT\)/);
    r = await impartial(['serve', ...data, '--token-file', empty, '--token', 'x'], { timeoutMs: 30_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /one of --token-file, --token or --no-auth/);
  });
});
