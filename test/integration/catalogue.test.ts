import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CatalogueEntry, ImageRecord, JobRecord, ModelRecord } from '@impartial/shared';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { stringify } from 'yaml';
import { runPackage, schemaErrors, unpack } from '../helpers/bioimageio.js';
import {
  accountClients,
  line,
  startTestBridge,
  syntheticTiff,
  type TestBridge,
  TINY_TRAINING,
} from '../helpers/bridge.js';
import { formData } from '../helpers/http.js';
import { waitFor } from '../helpers/wait.js';

// The export test compares the bridge's predictions with onnxruntime (float32) to 1e-4: the bridge and its
// workers (which copy this env) compute in float32 too.
process.env.IMPARTIAL_PRECISION = 'f32';

/*
 * The model catalogue on a multi-user bridge, through real HTTP clients: alice trains and
 * publishes, bob finds her model, predicts and fine-tunes with it and publishes the result; the
 * credit (lineage authors, use counts by distinct users) follows; visibility by group; versions
 * that supersede; bioimage.io packages exported, checked independently, imported back, and bad
 * packages refused with nothing stored.
 */

const TRAIN = { ...TINY_TRAINING, steps: 4 };

const errorOf = async (r: Response) => ((await r.json()) as { error: { message: string } }).error.message;

describe('model catalogue: publish, find, use, fine-tune, credit', () => {
  let t: TestBridge;
  let client: Awaited<ReturnType<typeof accountClients>>;
  const as = (who: string, p: string, init: RequestInit = {}) => client.as(who, p, init);
  const post = (who: string, p: string, body: unknown) => client.post(who, p, body);
  const json = async <T>(r: Response | Promise<Response>, status = 200): Promise<T> => {
    const res = await r;
    assert.equal(res.status, status, await res.clone().text());
    return (await res.json()) as T;
  };
  const waitJob = (who: string, job: JobRecord) =>
    waitFor(
      async () => {
        const j = await json<JobRecord>(as(who, `/api/jobs/${job.id}`));
        return ['done', 'failed', 'cancelled'].includes(j.status) ? j : null;
      },
      { timeoutMs: 120_000, what: `job ${job.id}` },
    );
  const projectWithStrokes = async (who: string, id: string, seed: number): Promise<ImageRecord> => {
    await json(post(who, '/api/projects', { name: id, id }), 201);
    const image = await json<ImageRecord>(
      as(who, `/api/projects/${id}/images?name=img`, {
        method: 'POST',
        headers: { 'Content-Type': 'image/tiff' },
        body: Buffer.from(syntheticTiff(96, seed).bytes),
      }),
      201,
    );
    for (const cls of [1, 2])
      await json(
        post(who, `/api/images/${image.id}/strokes`, { drawing: line(10, 10 + cls * 30, 80, 20 + cls * 30, cls) }),
        201,
      );
    return image;
  };
  const train = async (who: string, project: string, init: 'scratch' | 'current' = 'scratch') => {
    const job = await waitJob(
      who,
      await json<JobRecord>(post(who, `/api/projects/${project}/train`, { ...TRAIN, init }), 202),
    );
    assert.equal(job.status, 'done', job.error ?? '');
    return (job.result as { model: string }).model;
  };
  const infer = async (who: string, image: string, model?: string) => {
    const job = await waitJob(
      who,
      await json<JobRecord>(post(who, '/api/infer', { image, passes: 1, ...(model ? { model } : {}) }), 202),
    );
    assert.equal(job.status, 'done', job.error ?? '');
  };
  const publishBody = (name: string, visibility: string, extra: Record<string, unknown> = {}) => ({
    name,
    description: `${name}: nuclei and membranes of a 2-channel slide`,
    license: 'CC-BY-4.0',
    cite: [{ text: 'Our lab (2026)', doi: '10.1234/lab.2026' }],
    tags: ['nuclei', 'vectra'],
    channels: [
      { name: 'dapi', description: 'nuclear' },
      { name: 'membrane', description: 'cell membrane' },
    ],
    visibility,
    ...extra,
  });
  let aliceImage: ImageRecord;
  let bobImage: ImageRecord;
  let aliceEntry: CatalogueEntry;
  let bobEntry: CatalogueEntry;

  before(async () => {
    t = await startTestBridge({ users: {} });
    client = await accountClients(t, ['alice', 'bob', 'carol']);
    const { accounts } = client;
    await accounts.addGroup('lab', 'private');
    await accounts.addMember('lab', 'alice');
    await accounts.addMember('lab', 'bob');
  });
  after(async () => {
    await t.stop();
  });

  it('alice publishes a trained model for everyone; bob finds it by searching', async () => {
    aliceImage = await projectWithStrokes('alice', 'a1', 1);
    const model = await train('alice', 'a1');
    await infer('alice', aliceImage.id);
    const refused = await post(
      'alice',
      `/api/models/${model}/publish`,
      publishBody('Nuclei 2ch (alice)', 'everyone', { license: 'Nope-1.0' }),
    );
    assert.equal(refused.status, 400);
    assert.match(await errorOf(refused), /license "Nope-1.0" is not an SPDX licence id/);
    const badOrcid = await post('alice', `/api/models/${model}/publish`, {
      ...publishBody('Nuclei 2ch (alice)', 'everyone'),
      authors: [{ name: 'Alice A', orcid: '0000-0002-1825-0098' }],
    });
    assert.equal(badOrcid.status, 400);
    assert.match(await errorOf(badOrcid), /not a valid ORCID/);
    aliceEntry = await json<CatalogueEntry>(
      post('alice', `/api/models/${model}/publish`, {
        ...publishBody('Nuclei 2ch (alice)', 'everyone'),
        authors: [{ name: 'Alice A', account: 'alice', orcid: '0000-0002-1825-0097', affiliation: 'Lab' }],
      }),
      201,
    );
    assert.equal(aliceEntry.model, model);
    assert.equal(aliceEntry.publisher, 'alice');
    assert.deepEqual(aliceEntry.lineage, { parent: null, authors: ['alice'] });
    assert.equal(aliceEntry.training.steps, TRAIN.steps);
    assert.equal(aliceEntry.training.images, 1);
    assert.equal(aliceEntry.training.strokes, 2);
    assert.equal(aliceEntry.cover, true, 'her prediction made the cover');
    const again = await post('alice', `/api/models/${model}/publish`, publishBody('Nuclei 2ch again', 'everyone'));
    assert.equal(again.status, 409, 'a published version is published once');

    const found = await json<CatalogueEntry[]>(as('bob', '/api/catalogue?q=nuclei%20membranes&channels=2&sort=uses'));
    assert.deepEqual(
      found.map((e) => e.id),
      [aliceEntry.id],
    );
    assert.deepEqual(await json<CatalogueEntry[]>(as('bob', '/api/catalogue?channels=3')), []);
    assert.equal((await json<CatalogueEntry[]>(as('bob', '/api/catalogue?author=alice'))).length, 1);
    assert.equal((await json<CatalogueEntry[]>(as('bob', '/api/catalogue?tag=vectra'))).length, 1);
    const cover = await as('bob', `/api/catalogue/${aliceEntry.id}/cover.png`);
    assert.equal(cover.status, 200);
    assert.equal(cover.headers.get('content-type'), 'image/png');
    const bad = await as('bob', '/api/catalogue?sort=stars');
    assert.equal(bad.status, 400);
  });

  it('bob predicts with it and fine-tunes it; his result credits both; her entry counts his use', async () => {
    bobImage = await projectWithStrokes('bob', 'b1', 2);
    const copy = await json<ModelRecord>(post('bob', `/api/catalogue/${aliceEntry.id}/use`, { project: 'b1' }), 201);
    assert.equal(copy.parent, aliceEntry.model);
    assert.equal(copy.catalogue, aliceEntry.id);
    assert.deepEqual(copy.authors, ['alice'], 'a copy adds no author');
    const republished = await post(
      'bob',
      `/api/models/${copy.id}/publish`,
      publishBody('Nuclei 2ch (bob)', 'everyone'),
    );
    assert.equal(republished.status, 409, 'a copy is not published as new work');
    assert.match(await errorOf(republished), /is a copy of catalogue entry .*: fine-tune it, then publish/);
    await infer('bob', bobImage.id);
    const tuned = await train('bob', 'b1', 'current');
    const tunedRecord = await json<ModelRecord>(as('bob', `/api/models/${tuned}`));
    assert.equal(tunedRecord.parent, copy.id);
    assert.deepEqual(tunedRecord.authors, ['alice', 'bob']);
    await infer('bob', bobImage.id, tuned);
    bobEntry = await json<CatalogueEntry>(
      post('bob', `/api/models/${tuned}/publish`, publishBody('Nuclei 2ch (bob fine-tuned)', 'everyone')),
      201,
    );
    assert.deepEqual(bobEntry.lineage, { parent: aliceEntry.id, authors: ['alice', 'bob'] });
    assert.deepEqual(
      bobEntry.authors.map((a) => a.name),
      ['alice', 'bob'],
    );
    const credited = await json<CatalogueEntry>(as('alice', `/api/catalogue/${aliceEntry.id}`));
    assert.deepEqual(credited.uses, { inference: 1, fineTunes: 1, inferenceUsers: 1, fineTuneUsers: 1, users: 1 });
    // Bob training on from his own fine-tune is his work: alice's count stays.
    await train('bob', 'b1', 'current');
    assert.equal((await json<CatalogueEntry>(as('alice', `/api/catalogue/${aliceEntry.id}`))).uses.fineTunes, 1);
    // Sorted by use: alice's model (used twice) before bob's (not yet used).
    assert.deepEqual(
      (await json<CatalogueEntry[]>(as('carol', '/api/catalogue'))).map((e) => e.id),
      [aliceEntry.id, bobEntry.id],
    );
  });

  it('a group-only model is invisible to a non-member; only its publisher supersedes it', async () => {
    const model = await train('alice', 'a1');
    // Asked twice at once: one entry, the other answer 409.
    const twice = await Promise.all(
      [1, 2].map(() =>
        post('alice', `/api/models/${model}/publish`, publishBody('Nuclei 2ch (lab only)', 'group', { group: 'lab' })),
      ),
    );
    assert.deepEqual(twice.map((r) => r.status).sort(), [201, 409]);
    const groupEntry = (await twice.find((r) => r.status === 201)!.json()) as CatalogueEntry;
    assert.equal(groupEntry.group, 'lab');
    assert.ok((await json<CatalogueEntry[]>(as('bob', '/api/catalogue'))).some((e) => e.id === groupEntry.id));
    assert.ok(!(await json<CatalogueEntry[]>(as('carol', '/api/catalogue'))).some((e) => e.id === groupEntry.id));
    assert.equal((await as('carol', `/api/catalogue/${groupEntry.id}`)).status, 404);
    assert.equal((await as('carol', `/api/catalogue/${groupEntry.id}/cover.png`)).status, 404);
    await json(post('carol', '/api/projects', { name: 'c1', id: 'c1' }), 201);
    assert.equal((await post('carol', `/api/catalogue/${groupEntry.id}/use`, { project: 'c1' })).status, 404);
    const notHers = await post(
      'carol',
      '/api/models/nothing/publish',
      publishBody('Nuclei 2ch (carol)', 'group', { group: 'lab' }),
    );
    assert.equal(notHers.status, 404);

    // A next version: bob may not make one of alice's entry; alice may, once.
    const bobModel = await train('bob', 'b1', 'current');
    const forbidden = await post(
      'bob',
      `/api/models/${bobModel}/publish`,
      publishBody('Nuclei 2ch (alice) v2', 'everyone', { supersedes: aliceEntry.id }),
    );
    assert.equal(forbidden.status, 403);
    const next = await train('alice', 'a1');
    const v2 = await json<CatalogueEntry>(
      post(
        'alice',
        `/api/models/${next}/publish`,
        publishBody('Nuclei 2ch (alice)', 'everyone', { supersedes: aliceEntry.id }),
      ),
      201,
    );
    assert.equal(v2.version, 2);
    assert.equal(v2.series, aliceEntry.id);
    assert.equal((await json<CatalogueEntry>(as('bob', `/api/catalogue/${aliceEntry.id}`))).supersededBy, v2.id);
    const listed = (await json<CatalogueEntry[]>(as('bob', '/api/catalogue'))).map((e) => e.id);
    assert.ok(
      listed.includes(v2.id) && !listed.includes(aliceEntry.id),
      'a superseded version is listed only with all=1',
    );
    assert.ok((await json<CatalogueEntry[]>(as('bob', '/api/catalogue?all=1'))).some((e) => e.id === aliceEntry.id));
  });

  it('exports a bioimage.io package that validates and runs, and imports back with the same predictions', async () => {
    const r = await as('carol', `/api/catalogue/${bobEntry.id}/bioimageio.zip`);
    assert.equal(r.status, 200, await r.clone().text());
    const zip = new Uint8Array(await r.arrayBuffer());
    const { rdf, files } = unpack(zip);
    assert.deepEqual(schemaErrors(rdf), []);
    assert.equal(rdf.parent?.id, aliceEntry.id);
    assert.deepEqual(
      rdf.authors.map((a) => a.name),
      ['alice', 'bob'],
    );
    assert.equal(rdf.license, 'CC-BY-4.0');
    assert.ok(rdf.covers?.includes('cover.png') && files['cover.png']);
    assert.match(new TextDecoder().decode(files[rdf.documentation]), /# Validation/);
    assert.ok(rdf.weights.onnx!.opset_version! >= 13);
    assert.equal(rdf.weights.tensorflow_js!.parent, 'onnx');
    const run = await runPackage(zip);
    assert.ok(run.onnxVsTest <= 1e-4, `ONNX vs the packaged test output: ${run.onnxVsTest}`);
    assert.ok(run.onnxVsEngine <= 1e-4, `ONNX vs the engine: ${run.onnxVsEngine}`);

    await json(post('carol', '/api/projects', { name: 'c2', id: 'c2' }), 201);
    const image = await json<ImageRecord>(
      as('carol', '/api/projects/c2/images?name=img', {
        method: 'POST',
        headers: { 'Content-Type': 'image/tiff' },
        body: Buffer.from(syntheticTiff(96, 5).bytes),
      }),
      201,
    );
    const imported = await json<ModelRecord>(
      as('carol', '/api/projects/c2/models/import', {
        method: 'POST',
        headers: { 'Content-Type': 'application/zip' },
        body: zip,
      }),
      201,
    );
    assert.deepEqual(imported.authors, ['alice', 'bob'], 'the credit travels with the package');
    await infer('carol', image.id, imported.id);
    const copy = await json<ModelRecord>(post('carol', `/api/catalogue/${bobEntry.id}/use`, { project: 'c2' }), 201);
    await infer('carol', image.id, copy.id);
    const probability = async (model: string) =>
      new Uint8Array(await (await as('carol', `/api/predictions/${image.id}/${model}/probability.tif`)).arrayBuffer());
    assert.deepEqual(await probability(imported.id), await probability(copy.id));
  });

  it('refuses bad packages with what is wrong, and stores nothing', async () => {
    const zip = new Uint8Array(await (await as('carol', `/api/catalogue/${bobEntry.id}/bioimageio.zip`)).arrayBuffer());
    const files = unzipSync(zip);
    const rdfText = new TextDecoder().decode(files['rdf.yaml']);
    const before = (await json<ModelRecord[]>(as('carol', '/api/projects/c2/models'))).length;
    const refused = async (changed: Record<string, Uint8Array>, pattern: RegExp) => {
      const r = await as('carol', '/api/projects/c2/models/import', {
        method: 'POST',
        headers: { 'Content-Type': 'application/zip' },
        body: zipSync(changed),
      });
      assert.equal(r.status, 400, await r.clone().text());
      assert.match(await errorOf(r), pattern);
    };
    const { inputs: _inputs, ...noInputs } = unpack(zip).rdf;
    await refused(
      { ...files, 'rdf.yaml': strToU8(stringify(noInputs)) },
      /rdf\.yaml is not a valid bioimage\.io model description.*inputs/,
    );
    await refused({ ...files, 'rdf.yaml': strToU8('name: [unclosed') }, /rdf\.yaml is not valid YAML/);
    const { 'weights.onnx': _onnx, ...noOnnx } = files;
    await refused(noOnnx, /weights onnx: weights\.onnx is missing from the package/);
    const tampered = files['test_output.npy']!.slice();
    tampered[tampered.length - 1] = tampered.at(-1)! ^ 0xff;
    await refused(
      { ...files, 'test_output.npy': tampered },
      /output 0 test tensor: the sha256 of test_output\.npy does not match/,
    );
    const foreign = rdfText
      .replace(/tensorflow_js:[\s\S]*?(?=\nconfig:|$)/, '')
      .replace(
        'onnx:',
        'pytorch_state_dict:\n    source: weights.onnx\n' +
          '    architecture: {callable: UNet, source: unet.py}\n    pytorch_version: "2.1"\n  onnx:',
      );
    await refused(
      { ...files, 'rdf.yaml': strToU8(foreign) },
      /the bridge runs ImPartial U-Nets from their tensorflow_js weights/,
    );
    await refused({ 'notes.txt': strToU8('hello') }, /no rdf\.yaml/);
    // Packages are read two at a time with 16 waiting: past that, 429 busy (the bridge keeps serving).
    const many = await Promise.all(
      Array.from({ length: 24 }, () =>
        as('carol', '/api/projects/c2/models/import', {
          method: 'POST',
          headers: { 'Content-Type': 'application/zip' },
          body: zipSync({ 'notes.txt': strToU8('hello') }),
        }),
      ),
    );
    const statuses = many.map((r) => r.status);
    assert.ok(
      statuses.every((s) => s === 400 || s === 429),
      statuses.join(' '),
    );
    const busy = many.filter((r) => r.status === 429);
    assert.ok(busy.length >= 1, `some of 24 at once are refused as busy: ${statuses.join(' ')}`);
    assert.match(await errorOf(busy[0]!), /model packages are being made or read; try again/);
    assert.equal((await as('carol', '/api/catalogue')).status, 200);
    assert.equal((await json<ModelRecord[]>(as('carol', '/api/projects/c2/models'))).length, before);
  });

  it('keeps the credit of a deleted account', async () => {
    await client.accounts.deleteUser('alice');
    const entry = await json<CatalogueEntry>(as('bob', `/api/catalogue/${aliceEntry.id}`));
    assert.equal(entry.publisher, 'alice');
    assert.equal(entry.uses.fineTunes, 1);
    assert.deepEqual((await json<CatalogueEntry>(as('bob', `/api/catalogue/${bobEntry.id}`))).lineage.authors, [
      'alice',
      'bob',
    ]);
    const found = await json<CatalogueEntry[]>(as('bob', '/api/catalogue?author=alice'));
    assert.ok(found.some((e) => e.id === bobEntry.id));
  });
});

describe('model catalogue through MONAI Label: catalogue models in /info/, inference and fine-tuning', () => {
  let t: TestBridge;
  const call = (method: string, p: string, body?: BodyInit, headers: Record<string, string> = {}) =>
    fetch(`${t.bridge.url}${p}`, {
      method,
      headers: { Authorization: `Bearer ${t.bridge.token}`, ...headers },
      ...(body ? { body } : {}),
    });
  const postJson = (p: string, body: unknown) =>
    call('POST', p, JSON.stringify(body), { 'Content-Type': 'application/json' });
  before(async () => {
    t = await startTestBridge({ monaiProject: 'lab' });
  });
  after(async () => {
    await t.stop();
  });

  it('a published model is a MONAI model: listed, predicted with (credited), fine-tuned, never replaced', async () => {
    // Published from another project of this single-user bridge.
    assert.equal((await postJson('/api/projects', { name: 'src', id: 'src' })).status, 201);
    const image = (await (
      await call('POST', '/api/projects/src/images?name=img', Buffer.from(syntheticTiff(96, 3).bytes), {
        'Content-Type': 'image/tiff',
      })
    ).json()) as ImageRecord;
    for (const cls of [1, 2])
      await postJson(`/api/images/${image.id}/strokes`, { drawing: line(10, 10 + cls * 30, 80, 20 + cls * 30, cls) });
    const job = (await (await postJson('/api/projects/src/train', TRAIN)).json()) as JobRecord;
    const done = await waitFor(
      async () => {
        const j = (await (await call('GET', `/api/jobs/${job.id}`)).json()) as JobRecord;
        return j.status === 'running' || j.status === 'queued' ? null : j;
      },
      { timeoutMs: 120_000, what: 'the training' },
    );
    const published = await postJson(`/api/models/${(done.result as { model: string }).model}/publish`, {
      name: 'Lab nuclei 2ch',
      description: 'nuclei',
      license: 'MIT',
      cite: [{ text: 'Lab', url: 'https://example.org/lab' }],
      visibility: 'everyone',
    });
    assert.equal(published.status, 201, await published.clone().text());
    const entry = (await published.json()) as CatalogueEntry;
    const name = `catalogue_${entry.id}`;

    const info = (await (await call('GET', '/info/')).json()) as {
      models: Record<string, { description: string }>;
      trainers: Record<string, { description: string }>;
    };
    assert.match(info.models[name]!.description, /^Lab nuclei 2ch v1 \(C0, C1; by web; MIT\)$/);
    assert.match(info.trainers[name]!.description, /^Fine-tune Lab nuclei 2ch/);
    assert.ok(info.models.impartial_2, 'the datastore models stay');

    const upload = await call(
      'PUT',
      '/datastore/image?image=a',
      formData({ file: new Blob([Buffer.from(syntheticTiff(96, 8).bytes)]) }, { file: 'a.tif' }),
    );
    assert.equal(upload.status, 200);
    const inferred = await call('POST', `/infer/${name}?image=a&output=json`);
    assert.equal(inferred.status, 200, await inferred.clone().text());
    const described = (await (await call('GET', `/model/info/${name}`)).json()) as { version: string; parent: string };
    assert.equal(described.parent, entry.model, "the datastore's copy of the published version");
    assert.equal(
      (await (await call('GET', `/api/catalogue/${entry.id}`)).json()).uses.inference,
      1,
      'a MONAI inference counts as a use',
    );
    // Training it fine-tunes the published model (its copy becomes the datastore's current model).
    const lab = (await (await call('GET', '/api/projects/lab')).json()) as { images: ImageRecord[] };
    for (const cls of [1, 2]) {
      await postJson(`/api/images/${lab.images[0]!.id}/strokes`, {
        drawing: line(10, 10 + cls * 30, 80, 20 + cls * 30, cls),
      });
    }
    const train = await postJson(`/train/${name}`, { steps: 2 });
    assert.equal(train.status, 200, await train.clone().text());
    assert.equal((await (await call('GET', `/api/catalogue/${entry.id}`)).json()).uses.fineTunes, 1);
    await waitFor(async () => ((await (await call('GET', '/train/')).json()) as { status: string }).status === 'DONE', {
      timeoutMs: 120_000,
      what: 'the fine-tune',
    });
    const replace = await call('PUT', `/model/${name}`, formData({ file: new Blob([new Uint8Array(4)]) }));
    assert.equal(replace.status, 409);
    const unknown = await call('POST', '/infer/catalogue_nothing?image=a');
    assert.equal(unknown.status, 404);
  });
});
