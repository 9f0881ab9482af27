import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { labelOutlines, polygonsToRois, readRoiZip, writeRoiZip } from '@impartial/shared';
import { syntheticTiff } from '../helpers/bridge.js';
import { impartial } from '../helpers/cli.js';
import { formData as form } from '../helpers/http.js';
import { serveWith } from '../helpers/serve.js';
import { waitFor } from '../helpers/wait.js';

/*
 * The original ImPartial Fiji plugin's cloud mode (SessionClient, CapacityProvider and
 * ProxyMonaiLabelClient in nadeemlab/ImPartial) against `impartial serve --users`, with two
 * accounts made by `impartial users add`: the plugin's calls in its order, each user's calls never
 * showing the other's images, labels or models, and an ended session restored with the same id,
 * images, label ROIs, current model and predictions, also after the server restarts.
 */

const PASSWORDS = { alice: 'alice-has-a-long-password', bob: 'bob-has-a-long-password' };
/** A training the size of a test: a tiny net from random weights, a few steps. */
const TRAIN = { steps: 3, batch_size: 2, patch: 32, depth: 2, base: 4, init: 'scratch' };

interface Datastore {
  objects: Record<string, { labels: Record<string, unknown> }>;
}

describe("the ImPartial Fiji plugin's cloud mode against serve --users, two accounts", () => {
  let dir: string;
  let data: string;
  let child: ChildProcess;
  let base: string;

  const start = async () => {
    const served = await serveWith(['--data', data, '--port', '0', '--users'], '');
    child = served.child;
    base = served.url;
  };
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  /** The plugin's login: form fields, a token back, sent raw in Authorization from then on. */
  const login = async (name: keyof typeof PASSWORDS) => {
    const r = await fetch(`${base}/login`, {
      method: 'POST',
      body: new URLSearchParams({ username: name, password: PASSWORDS[name] }),
    });
    assert.equal(r.status, 200, await r.clone().text());
    const token = ((await r.json()) as { token: string }).token;
    return (method: string, p: string, body?: BodyInit) =>
      fetch(`${base}${p}`, { method, headers: { Authorization: token }, ...(body ? { body } : {}) });
  };

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'impartial-cloud-'));
    data = path.join(dir, 'data');
    for (const [name, password] of Object.entries(PASSWORDS)) {
      const r = await impartial(['users', 'add', name, '--data', data, '--password-stdin'], { input: `${password}\n` });
      assert.equal(r.code, 0, r.stderr);
    }
    await start();
  });
  after(async () => {
    await stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('logs in, polls a session, uploads, labels, trains, infers, lists, extends, ends, restores', async () => {
    assert.equal(
      (
        await fetch(`${base}/login`, {
          method: 'POST',
          body: new URLSearchParams({ username: 'alice', password: 'not-her-password' }),
        })
      ).status,
      401,
    );
    const alice = await login('alice');
    // POST /session, then GET /session/details until RUNNING and HEALTHY (CapacityProvider polls each second).
    let r = await alice('POST', '/session');
    assert.equal(r.status, 200, await r.clone().text());
    const sessionId = ((await r.json()) as { session_id: string }).session_id;
    const details = await waitFor(
      async () => {
        const d = (await (await alice('GET', '/session/details')).json()) as Record<string, string>;
        return d.last_status === 'RUNNING' && d.health_status === 'HEALTHY' ? d : null;
      },
      { timeoutMs: 10_000, what: 'the session to run and be healthy' },
    );
    assert.equal(details.session_id, sessionId);
    // The MONAI Label API under /proxy: info, image upload, ROI-zip label.
    assert.equal((await alice('GET', '/proxy/info/')).status, 200);
    const { bytes, labels } = syntheticTiff(128, 21);
    r = await alice(
      'PUT',
      '/proxy/datastore/image?image=image1',
      form({ file: new Blob([Buffer.from(bytes)], { type: 'image/png' }) }, { file: 'image1.tif' }),
    );
    assert.equal(r.status, 200, await r.clone().text());
    const rois = writeRoiZip(polygonsToRois(labelOutlines(labels)));
    r = await alice(
      'PUT',
      '/proxy/datastore/label?image=image1&tag=final',
      form({ label: new Blob([Buffer.from(rois)], { type: 'application/zip' }) }, { label: 'image1.zip' }),
    );
    assert.equal(r.status, 200, await r.clone().text());
    // Train, polled to DONE.
    r = await alice('POST', '/proxy/train/impartial_2', JSON.stringify(TRAIN));
    assert.equal(r.status, 200, await r.clone().text());
    await waitFor(
      async () => {
        const rec = (await (await alice('GET', '/proxy/train/')).json()) as { status: string; details: string[] };
        assert.notEqual(rec.status, 'ERROR', rec.details.join('\n'));
        return rec.status === 'DONE';
      },
      { timeoutMs: 240_000, intervalMs: 200, what: "alice's training to be DONE" },
    );
    const model = (await (await alice('GET', '/proxy/model/info/impartial_2')).json()) as { version: string };
    // Infer, its label saved under a tag.
    r = await alice(
      'POST',
      '/proxy/infer/impartial_2?image=image1&output=image',
      form({ params: JSON.stringify({ save_label: true, label_tag: 'iter1' }) }),
    );
    assert.equal(r.status, 200, await r.clone().text());
    const cells = ((await r.json()) as { metrics: { cells: number } }).metrics.cells;

    // Bob, meanwhile, in his own session: none of alice's images, labels or models.
    const bob = await login('bob');
    const bobSession = ((await (await bob('POST', '/session')).json()) as { session_id: string }).session_id;
    assert.notEqual(bobSession, sessionId);
    const bobStore = (await (await bob('GET', '/proxy/datastore/?output=all')).json()) as Datastore;
    assert.deepEqual(bobStore.objects, {});
    assert.equal((await bob('GET', '/proxy/datastore/image?image=image1')).status, 404);
    assert.equal((await bob('GET', '/proxy/datastore/label?label=image1&tag=final')).status, 404);
    // Bob's impartial_2 is the shipped generic model in his own datastore, not alice's version.
    const bobModel = await bob('GET', '/proxy/model/info/impartial_2');
    assert.equal(bobModel.status, 200, await bobModel.clone().text());
    assert.notEqual(((await bobModel.json()) as { version: string }).version, model.version);
    assert.deepEqual(Object.keys((await (await bob('GET', '/session')).json()) as object), [bobSession]);
    assert.equal((await bob('POST', `/session/restore?session_id=${sessionId}`)).status, 404);
    assert.equal((await bob('GET', `/api/projects`)).status, 200);
    const bobProjects = (await (await bob('GET', '/api/projects')).json()) as Array<{ owner: string }>;
    assert.equal(bobProjects.length, 1, 'bob lists his session project only');

    // Alice's session list, extend, end.
    const list = (await (await alice('GET', '/session')).json()) as Record<
      string,
      { created_at: string; images: string[]; labels: string[] }
    >;
    assert.deepEqual(Object.keys(list), [sessionId]);
    assert.deepEqual(list[sessionId]!.images, ['image1']);
    assert.deepEqual(list[sessionId]!.labels, ['image1']);
    const before = (await (await alice('GET', '/session/details')).json()) as { expires: string };
    r = await alice('POST', '/session/extend');
    assert.equal(r.status, 200);
    assert.ok(((await r.json()) as { expires: string }).expires >= before.expires);
    assert.equal((await alice('DELETE', '/session')).status, 200);
    assert.equal((await alice('GET', '/session/details')).status, 404, 'no session runs after the end');

    // The server restarts; alice logs in again and restores the ended session.
    await stop();
    await start();
    const again = await login('alice');
    const listed = (await (await again('GET', '/session')).json()) as Record<string, { images: string[] }>;
    assert.deepEqual(listed[sessionId]!.images, ['image1']);
    r = await again('POST', `/session/restore?session_id=${sessionId}`);
    assert.equal(r.status, 200, await r.clone().text());
    const restored = (await (await again('GET', '/session/details')).json()) as { session_id: string };
    assert.equal(restored.session_id, sessionId, 'the same id');
    const store = (await (await again('GET', '/proxy/datastore/?output=all')).json()) as Datastore;
    assert.deepEqual(Object.keys(store.objects), ['image1']);
    assert.ok(store.objects.image1!.labels.final, 'its final label');
    r = await again('GET', '/proxy/datastore/label?label=image1&tag=final');
    assert.equal(readRoiZip(new Uint8Array(await r.arrayBuffer())).length, readRoiZip(rois).length, 'the same ROIs');
    const modelAfter = (await (await again('GET', '/proxy/model/info/impartial_2')).json()) as { version: string };
    assert.equal(modelAfter.version, model.version, 'the same current model');
    r = await again('GET', '/proxy/datastore/label?label=image1&tag=iter1');
    assert.equal(r.status, 200, 'the saved prediction');
    const projects = (await (await again('GET', '/api/projects')).json()) as Array<{ id: string }>;
    const detail = (await (await again('GET', `/api/projects/${projects[0]!.id}`)).json()) as {
      images: Array<{ id: string }>;
    };
    const predictions = (await (
      await again('GET', `/api/images/${detail.images[0]!.id}/predictions`)
    ).json()) as Array<{
      model: string;
      cells: number;
    }>;
    assert.ok(
      predictions.some((p) => p.model === model.version && p.cells === cells),
      `the prediction of ${model.version} with ${cells} cells: ${JSON.stringify(predictions)}`,
    );
  });
});
