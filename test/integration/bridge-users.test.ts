import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Services } from '@impartial/bridge-server';
import type { ImageRecord, LogEntry } from '@impartial/shared';
import { line, startTestBridge, syntheticTiff, type TestBridge, TestClient, TINY_TRAINING } from '../helpers/bridge.js';
import { waitFor } from '../helpers/wait.js';

/*
 * A multi-user bridge (`serve --users`) with real HTTP and WebSocket clients and several accounts:
 * what each may see and do through every route class, and the attacks on sign-in (brute force,
 * session fixation, CSRF, forged and expired cookies, revoked tokens, disabled accounts).
 */

const password = (name: string) => `password-of-${name}`;

/** Every file under a folder, as bytes (the SQLite database and its WAL included). */
async function allBytes(dir: string): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(await readFile(path.join(e.parentPath, e.name)));
  }
  return out;
}

const cookieOf = (r: Response) => /impartial_session=([^;]*)/.exec(r.headers.get('set-cookie') ?? '')?.[1] ?? null;

describe('multi-user bridge: accounts, groups and permissions on every route', () => {
  let t: TestBridge;
  let accounts: NonNullable<Services['accounts']>;
  const tokens: Record<string, string> = {};
  /** One image in each of alice's projects: private, shared read-only, shared read-annotate. */
  const images: Record<'private' | 'viewers' | 'annotators', ImageRecord> = {} as never;
  /** Her projects' ids (which say nothing of them) by what they are. */
  const projects = { viewers: 'pa1', annotators: 'pa2', private: 'pa3' };

  const as = (who: string, p: string, init: RequestInit = {}) =>
    fetch(`${t.bridge.url}${p}`, {
      ...init,
      headers: { Authorization: `Bearer ${tokens[who]}`, ...(init.headers as Record<string, string> | undefined) },
    });
  const json = (body: unknown) => ({
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const stroke = (who: string, image: string, author?: string) =>
    as(who, `/api/images/${image}/strokes`, json({ drawing: line(10, 10, 60, 60), ...(author ? { author } : {}) }));

  before(async () => {
    t = await startTestBridge({ users: { accounts: { signup: 'invite' } } });
    accounts = t.bridge.services.accounts!;
    for (const name of ['alice', 'bob', 'carol', 'dave', 'erin']) {
      const user = await accounts.addUser(name, password(name));
      tokens[name] = (await accounts.issue(user, 'token', 'test')).secret;
    }
    const root = await accounts.addUser('root', password('root'), true);
    tokens.root = (await accounts.issue(root, 'token', 'test')).secret;
    await accounts.addGroup('viewers', 'read-only');
    await accounts.addGroup('annotators', 'read-annotate');
    await accounts.addGroup('solo', 'private');
    await accounts.addMember('viewers', 'carol');
    await accounts.addMember('annotators', 'dave');
    // Alice's projects go to her home group as she makes them.
    for (const [kind, group] of [
      ['viewers', 'viewers'],
      ['annotators', 'annotators'],
      ['private', 'solo'],
    ] as const) {
      await accounts.addMember(group, 'alice', { home: true });
      let r = await as('alice', '/api/projects', json({ name: `alice's ${kind}`, id: projects[kind] }));
      assert.equal(r.status, 201, await r.clone().text());
      r = await as('alice', `/api/projects/${projects[kind]}/images?name=${kind}`, {
        method: 'POST',
        headers: { 'Content-Type': 'image/tiff' },
        body: Buffer.from(syntheticTiff(96, 3).bytes),
      });
      assert.equal(r.status, 201, await r.clone().text());
      images[kind] = (await r.json()) as ImageRecord;
    }
  });
  after(async () => {
    await t.stop();
  });

  it("user B can neither read nor change user A's private project through any route class", async () => {
    const img = images.private.id;
    const listed = (await (await as('bob', '/api/projects')).json()) as Array<{ id: string }>;
    assert.deepEqual(
      listed.map((p) => p.id),
      [],
      "bob lists none of alice's projects",
    );
    // REST, OME-Zarr files, exports: 404, as for a project that does not exist.
    for (const p of [
      `/api/projects/${projects.private}`,
      `/api/images/${img}`,
      `/api/images/${img}/strokes`,
      `/zarr/images/${img}/.zattrs`,
      `/zarr/images/${img}/0/.zarray`,
      `/api/images/${img}/image.tif`,
      `/api/images/${img}/scribbles.tif`,
      `/api/images/${img}/predictions`,
    ]) {
      const r = await as('bob', p);
      assert.equal(r.status, 404, `GET ${p}: ${r.status}`);
      assert.doesNotMatch(await r.text(), /alice|private/, `${p} names nothing of the project`);
    }
    assert.equal((await stroke('bob', img)).status, 404);
    // Naming her image in a training of his own project: missing too, and her project goes unnamed.
    assert.equal((await as('bob', '/api/projects', json({ name: 'mine', id: 'pb1' }))).status, 201);
    const borrowed = await as('bob', '/api/projects/pb1/train', json({ ...TINY_TRAINING, images: [img] }));
    assert.equal(borrowed.status, 404);
    assert.doesNotMatch(await borrowed.text(), new RegExp(projects.private));
    assert.equal((await as('bob', `/api/projects/${projects.private}/train`, json(TINY_TRAINING))).status, 404);
    // Fiji (its macros put their token in the path).
    for (const p of [
      `/fiji/hello?image=${img}`,
      `/fiji/strokes?image=${img}`,
      `/fiji/images?project=${projects.private}`,
    ]) {
      const r = await fetch(`${t.bridge.url}/t/${tokens.bob}${p}`);
      assert.equal(r.status, 404, `${p}: ${r.status}`);
      assert.match(await r.text(), /code=not-found/);
    }
    const fijiList = await (await fetch(`${t.bridge.url}/t/${tokens.bob}/fiji/projects`)).text();
    assert.doesNotMatch(fijiList, new RegExp(Object.values(projects).join('|')), 'none of her projects in his list');
    // MONAI Label, plain and under the cloud plugin's /proxy: bob's datastore is his own session.
    for (const prefix of ['', '/proxy']) {
      const r = await as('bob', `${prefix}/datastore/image?image=${img}`);
      assert.equal(r.status, 404, `${prefix}/datastore/image: ${r.status}`);
      const all = (await (await as('bob', `${prefix}/datastore/?output=all`)).json()) as { objects: object };
      assert.deepEqual(all.objects, {});
    }
    // WebSocket: the hello for her image is refused as for an image that does not exist.
    const ws = await TestClient.open(t.bridge, { Authorization: `Bearer ${tokens.bob}` });
    ws.send({ type: 'hello', protocol: 1, client: 'script', image: img, name: 'bob' });
    const refusal = await ws.next((m) => m.type === 'error', 10_000, 'error');
    assert.equal(refusal.code, 'not-found');
    ws.close();
    // Alice herself sees and draws on it.
    assert.equal((await as('alice', `/api/images/${img}`)).status, 200);
    assert.equal((await stroke('alice', img)).status, 201);
  });

  it('a read-only member only views; a read-annotate member draws but cannot train or import', async () => {
    const viewers = images.viewers.id,
      annotators = images.annotators.id;
    assert.equal((await as('carol', `/api/images/${viewers}`)).status, 200);
    assert.equal((await as('carol', `/zarr/images/${viewers}/.zattrs`)).status, 200);
    let r = await stroke('carol', viewers);
    assert.equal(r.status, 403, await r.clone().text());
    r = await as('carol', `/api/projects/${projects.viewers}/train`, json(TINY_TRAINING));
    assert.equal(r.status, 403);
    // Not a member of the annotators' group: their project does not exist for her.
    assert.equal((await as('carol', `/api/images/${annotators}`)).status, 404);

    r = await stroke('dave', annotators, 'alice');
    assert.equal(r.status, 201, await r.clone().text());
    assert.equal(((await r.json()) as LogEntry).author, 'dave', 'the author is the account, not the name it gives');
    assert.equal((await as('dave', `/api/projects/${projects.annotators}/train`, json(TINY_TRAINING))).status, 403);
    r = await as('dave', `/api/projects/${projects.annotators}/images?name=more`, {
      method: 'POST',
      headers: { 'Content-Type': 'image/tiff' },
      body: Buffer.from(syntheticTiff(64, 4).bytes),
    });
    assert.equal(r.status, 403);
    // Over WebSocket too: dave draws, carol's draw on the read-only project is refused.
    const dave = await TestClient.join(t.bridge, annotators, 'someone else', undefined, {
      Authorization: `Bearer ${tokens.dave}`,
    });
    dave.send({ type: 'draw', ref: 'd1', drawing: line(5, 5, 30, 30) });
    const entry = await dave.next((m) => m.type === 'entry' && m.ref === 'd1', 10_000, 'entry');
    assert.equal(entry.entry.author, 'dave');
    dave.close();
    const carol = await TestClient.join(t.bridge, viewers, 'carol', undefined, {
      Authorization: `Bearer ${tokens.carol}`,
    });
    carol.send({ type: 'draw', ref: 'c1', drawing: line(5, 5, 30, 30) });
    const refused = await carol.next((m) => m.type === 'error' && m.ref === 'c1', 10_000, 'error');
    assert.equal(refused.code, 'forbidden');
    carol.close();
    // A read-only token of the owner herself looks but does not change.
    const readOnly = (await accounts.issue(await accounts.user('alice'), 'token', 'viewer', 'read')).secret;
    r = await fetch(`${t.bridge.url}/api/images/${viewers}/strokes`, {
      ...json({ drawing: line(1, 1, 9, 9) }),
      headers: { Authorization: `Bearer ${readOnly}`, 'Content-Type': 'application/json' },
    });
    assert.equal(r.status, 403);
    assert.match(await r.text(), /read-only token/);
  });

  it('an annotator undoes only her own strokes, keeps the final label, gets her own Fiji replies', async () => {
    const img = images.annotators.id;
    const mine = ((await (await stroke('dave', img)).json()) as LogEntry).seq;
    const hers = ((await (await stroke('alice', img)).json()) as LogEntry).seq;
    const undo = (who: string, target: number) => as(who, `/api/images/${img}/undo`, json({ target }));
    assert.equal((await undo('dave', hers)).status, 403, "the owner's stroke is not hers to switch off");
    assert.equal((await undo('dave', mine)).status, 201);
    assert.equal((await as('dave', `/datastore/label?image=${img}&tag=final`, { method: 'DELETE' })).status, 403);
    // The same macro request id from two accounts: each gets the answer of its own request.
    const fijiUndo = async (who: string) =>
      (await (await fetch(`${t.bridge.url}/t/${tokens[who]}/fiji/undo?image=${img}&id=same-id`)).text()).trim();
    await stroke('dave', img);
    const alices = await fijiUndo('alice');
    const daves = await fijiUndo('dave');
    assert.match(alices, /ok=1/);
    assert.match(daves, /ok=1/);
    assert.notEqual(daves, alices, "dave's request ran: it is not alice's cached reply");
  });

  it('takes a cookie write from the bridge behind https (an https Origin naming its host)', async () => {
    const signIn = await fetch(`${t.bridge.url}/api/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'dave', password: password('dave') }),
    });
    const r = await fetch(`${t.bridge.url}/api/images/${images.annotators.id}/strokes`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Cookie: `impartial_session=${cookieOf(signIn)}`,
        Origin: t.bridge.url.replace('http:', 'https:'),
      },
      body: JSON.stringify({ drawing: line(3, 3, 20, 20) }),
    });
    assert.equal(r.status, 201, await r.clone().text());
  });

  it('a read-only token may not start, end or extend work sessions', async () => {
    const readOnly = (await accounts.issue(await accounts.user('bob'), 'token', 'viewer', 'read')).secret;
    for (const [method, p] of [
      ['POST', '/session'],
      ['DELETE', '/session'],
      ['POST', '/session/extend'],
    ] as const) {
      const r = await fetch(`${t.bridge.url}${p}`, { method, headers: { Authorization: `Bearer ${readOnly}` } });
      assert.equal(r.status, 403, `${method} ${p}: ${r.status}`);
    }
  });

  it('stores tokens and passwords only as hashes (the data folder holds neither)', async () => {
    const login = await fetch(`${t.bridge.url}/login`, {
      method: 'POST',
      body: new URLSearchParams({ username: 'erin', password: password('erin') }),
    });
    const loginToken = ((await login.json()) as { token: string }).token;
    await t.bridge.settle();
    const files = await allBytes(t.bridge.dataDir);
    for (const secret of [tokens.alice!, tokens.root!, loginToken, password('alice')]) {
      assert.ok(files.length > 0 && !files.some((f) => f.includes(secret)), `${secret.slice(0, 4)}... is not stored`);
    }
  });

  it('brute force on one account meets 429 with Retry-After, also for the right password', async () => {
    const attempt = (pw: string) =>
      fetch(`${t.bridge.url}/api/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'erin', password: pw }),
      });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await attempt(`guess-number-${i}`)).status);
    assert.deepEqual(statuses.slice(0, 10), Array(10).fill(401), 'ten wrong guesses are answered 401');
    assert.deepEqual(statuses.slice(10), [429, 429]);
    const blocked = await attempt(password('erin'));
    assert.equal(blocked.status, 429);
    assert.ok(Number(blocked.headers.get('retry-after')) > 0, 'Retry-After says when to come back');
  });

  it("closes a disabled account's open WebSocket at once, and refuses its next request", async () => {
    const carol = await TestClient.join(t.bridge, images.viewers.id, 'carol', undefined, {
      Authorization: `Bearer ${tokens.carol}`,
    });
    const r = await as('root', '/api/admin/users/state', json({ name: 'carol', action: 'disable' }));
    assert.equal(r.status, 200, await r.clone().text());
    await waitFor(() => carol.closed, { timeoutMs: 10_000, what: "carol's WebSocket to close" });
    assert.equal(carol.closed!.code, 4401);
    assert.equal((await as('carol', `/api/images/${images.viewers.id}`)).status, 401);
    // Only an admin may do that.
    assert.equal((await as('bob', '/api/admin/users/state', json({ name: 'dave', action: 'disable' }))).status, 403);
    await accounts.setDisabled('carol', false);
    assert.equal((await as('carol', `/api/images/${images.viewers.id}`)).status, 200);
  });

  it("ends a revoked token's open long poll (Fiji's event wait) at once", async () => {
    const made = await accounts.issue(await accounts.user('dave'), 'token', 'fiji');
    const img = images.annotators.id;
    const hello = await (await fetch(`${t.bridge.url}/t/${made.secret}/fiji/hello?image=${img}`)).text();
    const cursor = /cursor=(\d+)/.exec(hello)![1];
    // With flush=1 the bridge sends the headers at once: the poll is then surely waiting on the bridge.
    const waiting = await fetch(
      `${t.bridge.url}/t/${made.secret}/fiji/events?image=${img}&since=${cursor}&timeout=30000&flush=1`,
    );
    assert.equal(waiting.status, 200);
    const poll = waiting.text().then(
      () => 'answered',
      () => 'closed',
    );
    const r = await as('dave', `/api/me/tokens/${made.record.id}`, { method: 'DELETE' });
    assert.equal(r.status, 200);
    assert.equal(await poll, 'closed', 'the poll is cut off, not answered after its 30 s');
    assert.equal((await fetch(`${t.bridge.url}/t/${made.secret}/fiji/hello?image=${img}`)).status, 401);
  });

  it('makes personal tokens only for a password sign-in; revoking one takes effect on the next request', async () => {
    let r = await as('bob', '/api/me/tokens', json({ label: 'script', access: 'write' }));
    assert.equal(r.status, 403, 'a token does not make tokens (they would outlive it)');
    const signIn = await fetch(`${t.bridge.url}/api/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'bob', password: password('bob') }),
    });
    r = await fetch(`${t.bridge.url}/api/me/tokens`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Cookie: `impartial_session=${cookieOf(signIn)}`,
        Origin: t.bridge.url,
      },
      body: JSON.stringify({ label: 'script', access: 'write' }),
    });
    assert.equal(r.status, 201);
    const made = (await r.json()) as { token: string; record: { id: string } };
    const use = () => fetch(`${t.bridge.url}/api/me`, { headers: { Authorization: `Bearer ${made.token}` } });
    assert.equal((await use()).status, 200);
    r = await as('bob', `/api/me/tokens/${made.record.id}`, { method: 'DELETE' });
    assert.equal(r.status, 200);
    assert.equal((await use()).status, 401);
    // Another user's token is not bob's to revoke (and does not exist for him).
    const other = (await accounts.tokens((await accounts.user('dave')).id))[0]!;
    assert.equal((await as('bob', `/api/me/tokens/${other.id}`, { method: 'DELETE' })).status, 404);
  });

  it('gives a new session id at every login (no fixation) and refuses forged cookies', async () => {
    const own = t.bridge.url;
    const login = (cookie?: string) =>
      fetch(`${own}/api/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: own, ...(cookie ? { Cookie: cookie } : {}) },
        body: JSON.stringify({ name: 'bob', password: password('bob') }),
      });
    const me = (cookie: string) => fetch(`${own}/api/me`, { headers: { Cookie: `impartial_session=${cookie}` } });
    const planted = 'ims_planted-by-an-attacker';
    let r = await login(`impartial_session=${planted}`);
    assert.equal(r.status, 200);
    const first = cookieOf(r)!;
    assert.ok(first && first !== planted, "the session id is the bridge's own, not the one the browser had");
    assert.match(r.headers.get('set-cookie')!, /HttpOnly/i);
    assert.match(r.headers.get('set-cookie')!, /SameSite=Strict/i);
    assert.equal((await me(planted)).status, 401);
    assert.equal((await me(first)).status, 200);
    r = await login(`impartial_session=${first}`);
    const second = cookieOf(r)!;
    assert.notEqual(second, first);
    assert.equal((await me(first)).status, 401, 'the old session ends when a new login replaces it');
    assert.equal((await me(second)).status, 200);
    assert.equal((await me(`${second.slice(0, -2)}xx`)).status, 401, 'a forged cookie is refused');
    // Logout ends it.
    r = await fetch(`${own}/api/logout`, {
      method: 'POST',
      headers: { Cookie: `impartial_session=${second}`, Origin: own },
    });
    assert.equal(r.status, 200);
    assert.equal((await me(second)).status, 401);
  });

  it("refuses a cookie-signed write another site's page makes (CSRF), and takes the bridge's own", async () => {
    const own = t.bridge.url;
    const r0 = await fetch(`${own}/api/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'dave', password: password('dave') }),
    });
    const cookie = `impartial_session=${cookieOf(r0)}`;
    const draw = (headers: Record<string, string>) =>
      fetch(`${own}/api/images/${images.annotators.id}/strokes`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Cookie: cookie, ...headers },
        body: JSON.stringify({ drawing: line(20, 20, 40, 40) }),
      });
    const before = ((await (await draw({ Origin: own })).json()) as LogEntry).seq;
    const foreign: Array<Record<string, string>> = [
      { Origin: 'http://evil.example' },
      { 'Sec-Fetch-Site': 'cross-site', Referer: 'http://evil.example/page' },
      {},
    ];
    for (const headers of foreign) {
      const r = await draw(headers);
      assert.equal(r.status, 403, `${JSON.stringify(headers)}: ${r.status}`);
    }
    const after = (await (
      await fetch(`${own}/api/images/${images.annotators.id}/strokes?since=${before}`, { headers: { Cookie: cookie } })
    ).json()) as { entries: LogEntry[] };
    assert.deepEqual(after.entries, [], 'no refused write was stored');
    assert.equal((await draw({ 'Sec-Fetch-Site': 'same-origin' })).status, 201);
  });

  it("signs up only with an admin's invite code, once", async () => {
    const signup = (name: string, invite?: string) =>
      fetch(`${t.bridge.url}/api/signup`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: t.bridge.url },
        body: JSON.stringify({ name, password: password(name), ...(invite ? { invite } : {}) }),
      });
    assert.equal((await signup('frank')).status, 403);
    assert.equal((await as('bob', '/api/admin/invites', { method: 'POST' })).status, 403);
    const { invite } = (await (await as('root', '/api/admin/invites', { method: 'POST' })).json()) as {
      invite: string;
    };
    assert.equal((await signup('frank', invite)).status, 201);
    assert.equal((await signup('grace', invite)).status, 403, 'an invite is used once');
    const fresh = (await (await as('root', '/api/admin/invites', { method: 'POST' })).json()) as { invite: string };
    const short = await fetch(`${t.bridge.url}/api/signup`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'heidi', password: 'short', invite: fresh.invite }),
    });
    assert.equal(short.status, 400);
    assert.equal((await signup('heidi', fresh.invite)).status, 201, 'a refused sign-up leaves the invite unused');
  });

  it("closes a member's WebSocket when she leaves the group; she reconnects to what she may still see", async () => {
    const carol = await TestClient.join(t.bridge, images.viewers.id, 'carol', undefined, {
      Authorization: `Bearer ${tokens.carol}`,
    });
    const r = await as('root', '/api/admin/members', json({ group: 'viewers', user: 'carol', remove: 'true' }));
    assert.equal(r.status, 200, await r.clone().text());
    await waitFor(() => carol.closed, { timeoutMs: 10_000, what: "carol's WebSocket to close" });
    assert.equal(carol.closed!.code, 4401);
    assert.equal((await as('carol', `/api/images/${images.viewers.id}`)).status, 404, 'no longer hers to see');
    await accounts.addMember('viewers', 'carol');
    assert.equal((await as('carol', `/api/images/${images.viewers.id}`)).status, 200);
  });

  it('lets an owner of a group manage its members and level, but not make it read-write', async () => {
    await accounts.addMember('annotators', 'dave', { owner: true });
    const member = (who: string, body: Record<string, string>) => as(who, '/api/admin/members', json(body));
    const level = (who: string, l: string) => as(who, '/api/admin/groups', json({ name: 'annotators', level: l }));
    assert.equal((await member('bob', { group: 'annotators', user: 'bob' })).status, 403, 'bob owns no group');
    assert.equal((await as('bob', `/api/images/${images.annotators.id}`)).status, 404);
    assert.equal((await member('dave', { group: 'annotators', user: 'bob' })).status, 200);
    assert.equal((await as('bob', `/api/images/${images.annotators.id}`)).status, 200, 'bob is in now');
    assert.equal((await member('dave', { group: 'annotators', user: 'bob', home: 'true' })).status, 403);
    assert.equal((await member('dave', { group: 'viewers', user: 'bob' })).status, 403, 'not his group');
    assert.equal((await level('dave', 'read-only')).status, 200);
    assert.equal((await level('dave', 'read-write')).status, 403, 'only admins make a group read-write');
    assert.equal((await level('root', 'read-annotate')).status, 200);
  });
});

describe('multi-user bridge: credentials expire', () => {
  let t: TestBridge;
  before(async () => {
    // Cookies that last two seconds.
    t = await startTestBridge({ users: { accounts: { cookieHours: 2 / 3600 } } });
    await t.bridge.services.accounts!.addUser('ivan', password('ivan'));
  });
  after(async () => {
    await t.stop();
  });

  it('refuses an expired browser session', async () => {
    const r = await fetch(`${t.bridge.url}/api/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'ivan', password: password('ivan') }),
    });
    const cookie = `impartial_session=${cookieOf(r)}`;
    const me = () => fetch(`${t.bridge.url}/api/me`, { headers: { Cookie: cookie } });
    assert.equal((await me()).status, 200);
    await waitFor(async () => (await me()).status === 401, { timeoutMs: 15_000, what: 'the cookie to expire' });
  });
});

describe('multi-user bridge: open sign-up', () => {
  let t: TestBridge;
  before(async () => {
    t = await startTestBridge({ users: { accounts: { signup: 'open' } } });
  });
  after(async () => {
    await t.stop();
  });

  it('takes sign-ups without an invite, at most 10 from one address in the window (then 429)', async () => {
    const signup = (name: string) =>
      fetch(`${t.bridge.url}/api/signup`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name, password: password(name) }),
      });
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await signup(`visitor${i}`)).status);
    assert.deepEqual(statuses, [...Array(10).fill(201), 429]);
    const names = (await t.bridge.services.accounts!.listUsers()).map((u) => u.name);
    assert.equal(names.length, 10, 'the refused sign-up made no account');
  });
});
