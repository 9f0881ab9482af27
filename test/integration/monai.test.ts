import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { SYSTEM } from '@impartial/bridge-server';
import { labelOutlines, polygonsToRois, readRoiZip, readTiff, writeRoiZip } from '@impartial/shared';
import { line, startTestBridge, syntheticTiff, type TestBridge, TestClient } from '../helpers/bridge.js';
import { formData as form } from '../helpers/http.js';
import { dataFile } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Vectra image1 and its outlines when ../shared/data has them, else a synthetic 400 x 400 stand-in
 * (same calls either way).
 */
async function plugInData(): Promise<{ tif: Uint8Array; zip: Uint8Array; source: string }> {
  const tif = dataFile('vectra-2ch', 'image1.tif'),
    zip = dataFile('vectra-2ch', 'labels', 'image1.zip');
  if (existsSync(tif) && existsSync(zip))
    return {
      tif: new Uint8Array(await readFile(tif)),
      zip: new Uint8Array(await readFile(zip)),
      source: 'Vectra image1',
    };
  const { bytes, labels } = syntheticTiff(400, 11);
  const outlines = labelOutlines(labels);
  const some = new Map([...outlines].filter(([k]) => k % 5 === 0));
  return { tif: bytes, zip: writeRoiZip(polygonsToRois(some)), source: 'synthetic 400 x 400' };
}

/** The part of GET /info/ these tests read. */
interface MonaiInfo {
  name: string;
  models: Record<string, unknown>;
  trainers: Record<string, { config: { max_epochs: number; npatches_epoch: number; batch_size: number } }>;
}

/** Training steps the bridge plans for a MONAI request: epochs of npatches_epoch patches in batches. */
const plannedSteps = (epochs: number, patchesPerEpoch: number, batchSize: number) =>
  epochs * Math.ceil(patchesPerEpoch / batchSize);

describe("MONAI Label API: the ImPartial Fiji plugin's calls (notes/impartial.md 8.2, rows 1-17), in order", () => {
  let t: TestBridge;
  let base: string;
  const call = (method: string, p: string, body?: BodyInit, headers: Record<string, string> = {}) =>
    fetch(`${base}${p}`, {
      method,
      headers: { Authorization: t.bridge.token!, ...headers },
      ...(body ? { body } : {}),
    });
  // A bridge for each test: the session starts from an empty datastore.
  beforeEach(async () => {
    t = await startTestBridge();
    base = t.bridge.url;
  });
  afterEach(async () => {
    await t.stop();
  });

  it('replays a plug-in session: upload, label, train, infer, batch infer, model round trip, delete', async () => {
    const data = await plugInData();
    // 1. GET /info/ (the raw Authorization header of the plugin's cloud mode)
    let r = await call('GET', '/info/');
    assert.equal(r.status, 200);
    const info = (await r.json()) as MonaiInfo;
    assert.equal(info.name, 'ImPartial');
    assert.ok(info.models.impartial_2, 'a model for 2-channel images');
    const config = info.trainers.impartial_2!.config;
    for (const key of ['max_epochs', 'npatches_epoch', 'batch_size'] as const)
      assert.ok(Number.isInteger(config[key]) && config[key] > 0, `the trainer's ${key}: ${config[key]}`);
    // 2. the empty datastore
    r = await call('GET', '/datastore/?output=all');
    assert.deepEqual(((await r.json()) as { objects: object }).objects, {});
    // 5. PUT the image, declared image/png although it is a TIFF (as the plugin does)
    r = await call(
      'PUT',
      '/datastore/image?image=image1',
      form({ file: new Blob([Buffer.from(data.tif)], { type: 'image/png' }) }, { file: 'image1.tif' }),
    );
    assert.equal(r.status, 200, await r.clone().text());
    assert.deepEqual(await r.json(), { image: 'image1' });
    // 3. HEAD, 4. GET the image back
    assert.equal((await call('HEAD', '/datastore/image?image=image1')).status, 200);
    assert.equal((await call('HEAD', '/datastore/image?image=nope')).status, 404);
    r = await call('GET', '/datastore/image?image=image1');
    const back = await readTiff(await r.arrayBuffer());
    assert.deepEqual([back.width, back.height, back.channels], [400, 400, 2], data.source);
    // 7. PUT the ROI set as the final label
    r = await call(
      'PUT',
      '/datastore/label?image=image1&tag=final',
      form({ label: new Blob([Buffer.from(data.zip)], { type: 'application/zip' }) }, { label: 'image1.zip' }),
    );
    assert.equal(r.status, 200, await r.clone().text());
    // 2. the listing now shows a final label; 8. it reads back as the same ROI set
    r = await call('GET', '/datastore/?output=all');
    const all = (await r.json()) as { objects: Record<string, { labels: Record<string, unknown> }> };
    assert.ok(all.objects.image1!.labels.final);
    r = await call('GET', '/datastore/label?label=image1&tag=final');
    assert.equal(readRoiZip(new Uint8Array(await r.arrayBuffer())).length, readRoiZip(data.zip).length);
    // 13. DELETE /train/, 14. POST /train/impartial_2 (2 epochs), 15. poll the progress lines
    assert.equal((await call('DELETE', '/train/')).status, 200);
    const request = { max_epochs: 2, npatches_epoch: 8, early_stop_patience: 10 };
    r = await call('POST', '/train/impartial_2', JSON.stringify(request), { 'Content-Type': 'application/json' });
    assert.equal(r.status, 200, await r.clone().text());
    let epoch = 0;
    const lines: string[] = [];
    const trained = await waitFor(
      async () => {
        const running = await call('GET', '/train/?check_if_running=true');
        const rec = (await (await call('GET', '/train/')).json()) as {
          status: string;
          details: string[];
          result?: { steps: number | null };
        };
        if (running.status === 404) assert.notEqual(rec.status, 'RUNNING');
        for (const l of rec.details) {
          const m = /Epoch:\s(\d+)\/(\d+)/.exec(l);
          if (m && l.includes('train_loss:')) {
            assert.equal(Number(m[2]), request.max_epochs, `epochs as requested: ${l}`);
            epoch = Math.max(epoch, Number(m[1]));
            lines.push(l);
          }
        }
        assert.notEqual(rec.status, 'ERROR', rec.details.join('\n'));
        return rec.status === 'DONE' ? rec : null;
      },
      { timeoutMs: 240_000, intervalMs: 200, what: 'the MONAI training task to be DONE' },
    );
    assert.match(trained.details.at(-1)!, /training done: model version m/);
    assert.equal(
      epoch,
      request.max_epochs,
      `the plugin reads the last epoch of ${request.max_epochs} from lines like "${lines.at(-1)}"`,
    );
    assert.equal(
      trained.result?.steps,
      plannedSteps(request.max_epochs, request.npatches_epoch, config.batch_size),
      'epochs of npatches_epoch patches, in batches of the trainer batch_size',
    );
    // 9. POST /infer/impartial_2 with the multipart params field
    r = await call(
      'POST',
      '/infer/impartial_2?image=image1&output=image',
      form({ params: JSON.stringify({ threshold: 0.5, save_label: true, label_tag: 'iter1' }) }),
    );
    assert.equal(r.status, 200, await r.clone().text());
    const answer = (await r.json()) as { output: number[][]; entropy: number[][]; metrics: { cells: number } };
    assert.equal(answer.output.length, 400);
    assert.equal(answer.output[0]!.length, 400);
    assert.equal(answer.entropy.length, 400);
    const entropy = answer.entropy.flat();
    assert.ok(
      entropy.every((v) => v >= 0 && v <= Math.LN2 + 1e-6),
      'entropy in [0, ln 2]',
    );
    assert.ok(
      entropy.some((v) => v > 0.01),
      'and not all certain',
    );
    const ids = new Set(answer.output.flat());
    assert.equal(
      ids.size - (ids.has(0) ? 1 : 0),
      answer.metrics.cells,
      'output holds instance labels, as many as the cells counted',
    );
    assert.ok(answer.metrics.cells > 5, `${answer.metrics.cells} cells`);
    // 10. batch infer, 11. poll it to DONE, 12. read its saved label
    r = await call(
      'POST',
      '/batch/infer/impartial_2',
      JSON.stringify({ threshold: 0.5, save_label: true, label_tag: 'batch_iter1' }),
      { 'Content-Type': 'application/json' },
    );
    assert.equal(r.status, 200);
    const batch = await waitFor(
      async () => {
        const rec = (await (await call('GET', '/batch/infer?check_if_running=false')).json()) as {
          status: string;
          details: string[];
        };
        assert.notEqual(rec.status, 'ERROR', rec.details.join('\n'));
        return rec.status !== 'RUNNING' ? rec : null;
      },
      { timeoutMs: 240_000, intervalMs: 200, what: 'the batch inference to end' },
    );
    assert.equal(batch.status, 'DONE', batch.details.join('\n'));
    assert.equal(batch.details.length, 1, `one line per image: ${batch.details.join('; ')}`);
    assert.match(batch.details[0]!, /^1\/1 image1: \d+ cells$/, 'it ran on the one image of the datastore');
    r = await call('GET', '/datastore/label?label=image1&tag=batch_iter1');
    const saved = (await r.json()) as { output: number[][]; entropy: number[][] };
    assert.equal(saved.output.length, 400);
    // 16. download the model, 17. upload it again: a new version whose parent is the downloaded one
    const before = (await (await call('GET', '/model/info/impartial_2')).json()) as {
      version: string;
      checksum: string;
    };
    r = await call('GET', '/model/impartial_2');
    const zip = new Uint8Array(await r.arrayBuffer());
    r = await call(
      'PUT',
      '/model/impartial_2',
      form({ file: new Blob([Buffer.from(zip)], { type: 'application/octet-stream' }) }, { file: 'model.zip' }),
    );
    assert.equal(r.status, 200, await r.clone().text());
    const afterInfo = (await (await call('GET', '/model/info/impartial_2')).json()) as {
      version: string;
      parent: string;
      checksum: string;
    };
    assert.notEqual(afterInfo.version, before.version);
    assert.equal(afterInfo.parent, before.version);
    assert.equal(afterInfo.checksum, before.checksum, 'same weights');
    // 6. delete the image
    assert.equal((await call('DELETE', '/datastore/image?id=image1')).status, 200);
    assert.equal((await call('HEAD', '/datastore/image?image=image1')).status, 404);
    // The plugin's cloud mode prefixes /proxy; without a token nothing is served.
    assert.equal((await call('GET', '/proxy/datastore/?output=stats')).status, 200);
    assert.equal((await fetch(`${base}/info/`)).status, 401);
  });

  it('strokes from a WebSocket client train a MONAI /train/ call; its /infer/ result reaches the client', async () => {
    const { bytes } = syntheticTiff(160, 12);
    let r = await call(
      'PUT',
      '/datastore/image?image=tissue',
      form({ file: new Blob([Buffer.from(bytes)]) }, { file: 'tissue.tif' }),
    );
    assert.equal(r.status, 200);
    const project = (await (await t.api('/api/projects/monai')).json()) as {
      images: Array<{ id: string; name: string }>;
    };
    const image = project.images.find((i) => i.name === 'tissue')!;
    const ws = await TestClient.join(t.bridge, image.id, 'painter');
    ws.send({ type: 'draw', ref: 'a', drawing: line(20, 20, 60, 60, 1, 4) });
    ws.send({ type: 'draw', ref: 'b', drawing: line(100, 10, 150, 30, 2, 4) });
    await ws.next((m) => m.type === 'entry' && m.ref === 'b');
    const stats = (await (await call('GET', '/datastore/?output=train')).json()) as Array<{ image: string }>;
    assert.ok(
      stats.some((s) => s.image === '/datastore/image?image=tissue'),
      `the stroked image is training data: ${JSON.stringify(stats)}`,
    );
    // No max_epochs: the trainer's own, as GET /info/ reports it.
    const info = (await (await call('GET', '/info/')).json()) as MonaiInfo;
    const request = { npatches_epoch: 2, batch_size: 2, init: 'scratch', depth: 2, base: 4, patch: 32 };
    r = await call('POST', '/train/impartial_2', JSON.stringify(request), { 'Content-Type': 'application/json' });
    assert.equal(r.status, 200, await r.clone().text());
    const model = await ws.next((m) => m.type === 'model', 120_000, 'model');
    const epochs = info.trainers.impartial_2!.config.max_epochs;
    assert.equal(model.model.steps, plannedSteps(epochs, request.npatches_epoch, request.batch_size));
    assert.equal(
      model.model.strokesHash,
      await t.bridge.services.strokes.hash(SYSTEM, [image.id]),
      "trained on exactly the WebSocket client's strokes",
    );
    const tiles = ws.upcoming((m) => m.type === 'tiles' && m.prediction.status === 'complete', 120_000);
    r = await call('POST', '/infer/impartial_2?image=tissue', form({ params: JSON.stringify({ passes: 1 }) }));
    assert.equal(r.status, 200, await r.clone().text());
    const seen = (await tiles) as Extract<Awaited<typeof tiles>, { type: 'tiles' }>;
    assert.equal(seen.prediction.model, model.model.id, 'the MONAI result is a new prediction for web viewers');
    ws.close();
  });
});

describe('MONAI Label API: active learning, info routes, errors', () => {
  let t: TestBridge;
  const call = (method: string, p: string, body?: BodyInit, headers: Record<string, string> = {}) =>
    fetch(`${t.bridge.url}${p}`, {
      method,
      headers: { Authorization: `Bearer ${t.bridge.token}`, ...headers },
      ...(body ? { body } : {}),
    });
  before(async () => {
    t = await startTestBridge({ monaiProject: 'lab' });
  });
  after(async () => {
    await t.stop();
  });

  it('suggests the unlabelled image with the highest mean entropy, and answers bad calls with 4xx', async () => {
    for (const [name, seed] of [
      ['a', 21],
      ['b', 22],
      ['c', 23],
    ] as const) {
      const r = await call(
        'PUT',
        `/datastore/image?image=${name}`,
        form({ file: new Blob([Buffer.from(syntheticTiff(96, seed).bytes)]) }, { file: `${name}.tif` }),
      );
      assert.equal(r.status, 200);
    }
    assert.deepEqual(await (await call('GET', '/datastore/?output=stats')).json(), {
      total: 3,
      completed: 0,
      label_tags: {},
    });
    const images = (
      (await (await t.api('/api/projects/lab')).json()) as { images: Array<{ id: string; name: string }> }
    ).images;
    const a = images.find((i) => i.name === 'a')!;
    const ws = await TestClient.join(t.bridge, a.id, 'p');
    ws.send({ type: 'draw', ref: '1', drawing: line(10, 10, 40, 40, 1, 3) });
    ws.send({ type: 'draw', ref: '2', drawing: line(60, 5, 90, 20, 2, 3) });
    await ws.next((m) => m.type === 'entry' && m.ref === '2');
    let r = await call(
      'POST',
      '/train/impartial_2',
      JSON.stringify({ max_epochs: 1, npatches_epoch: 4, init: 'scratch', depth: 2, base: 4, patch: 32 }),
      { 'Content-Type': 'application/json' },
    );
    assert.equal(r.status, 200);
    const busy = await call('POST', '/train/impartial_2', JSON.stringify({ max_epochs: 1 }), {
      'Content-Type': 'application/json',
    });
    assert.equal(busy.status, 429, 'MONAI answers 429 while training runs');
    await ws.next((m) => m.type === 'model', 120_000);
    for (const name of ['b', 'c']) {
      r = await call('POST', `/infer/impartial_2?image=${name}`, form({ params: JSON.stringify({ passes: 2 }) }));
      assert.equal(r.status, 200);
    }
    const entropy = async (name: string) =>
      (await t.bridge.services.predictions.latest(SYSTEM, images.find((i) => i.name === name)!.id))!.meanEntropy!;
    const expected = (await entropy('b')) > (await entropy('c')) ? 'b' : 'c';
    r = await call('POST', '/activelearning/entropy', '{}', { 'Content-Type': 'application/json' });
    assert.equal(
      ((await r.json()) as { id: string }).id,
      expected,
      'the unlabelled image the model is least sure about',
    );
    r = await call('POST', '/activelearning/random', '{}', { 'Content-Type': 'application/json' });
    assert.ok(['b', 'c'].includes(((await r.json()) as { id: string }).id), 'never the labelled image');
    assert.equal((await call('POST', '/activelearning/nope', '{}')).status, 404);
    assert.equal((await call('POST', '/infer/impartial_3?image=b')).status, 400, 'wrong channel count for the model');
    assert.equal((await call('POST', '/infer/unet?image=b')).status, 404);
    assert.equal(
      (
        await call(
          'PUT',
          '/datastore/label?image=b&tag=final',
          form({ label: new Blob(['not a zip']) }, { label: 'x.zip' }),
        )
      ).status,
      400,
    );
    assert.equal(
      (await call('PUT', '/model/impartial_2', form({ file: new Blob(['nope']) }, { file: 'm.zip' }))).status,
      400,
    );
    const logs = await (await call('GET', '/logs/?lines=50')).text();
    assert.match(logs, /infer impartial_2 on c/);
    const info = (await (await call('GET', '/datastore/image/info?image=b')).json()) as { width: number };
    assert.equal(info.width, 96);
    assert.equal((await call('HEAD', '/datastore/label?image=a&tag=final')).status, 200);
    assert.equal((await call('DELETE', '/datastore/label?id=a&tag=final')).status, 200);
    assert.equal(
      (await call('HEAD', '/datastore/label?image=a&tag=final')).status,
      404,
      'deleting the final label switches the strokes off',
    );
    const undone = await ws.next(
      (m) => m.type === 'entry' && m.entry.op === 'undo' && m.entry.author === 'monai',
      5000,
      'entry',
    );
    assert.ok(undone, 'and the web viewer sees it');
    ws.close();
  });
});
