import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test, { after, before, describe } from 'node:test';
import { readOmeZarrInfo, readOmeZarrLabels, readRoiZip, synthesizeScribbles, writeTiff } from '@impartial/shared';
import { FileSystemStore } from '@impartial/shared/node';
import { impartial, type RunResult, run } from '../helpers/cli.js';
import { writeSyntheticFixture } from '../helpers/fixtures.js';

const python = '/usr/bin/python3';
const zarrCheck = `
import json, math, sys, zarr, numpy as np
out = sys.argv[1]
img = zarr.open_group(out + '/a.ome.zarr', mode='r')
ms = img.attrs['multiscales'][0]
assert ms['version'] == '0.4', ms
assert [a['name'] for a in ms['axes']] == ['c', 'y', 'x']
shapes = [img[d['path']].shape for d in ms['datasets']]
for s0, s1 in zip(shapes, shapes[1:]):
    assert s1[1] == (s0[1] + 1) // 2 and s1[2] == (s0[2] + 1) // 2, shapes
assert len(img.attrs['omero']['channels']) == shapes[0][0]
assert img['labels'].attrs['labels'] == ['prediction']
lab = img['labels/prediction']
assert lab.attrs['image-label']['source']['image'] == '../../'
assert len(lab.attrs['multiscales'][0]['datasets']) == len(shapes)
l0 = lab['0'][:]
assert np.issubdtype(l0.dtype, np.integer), l0.dtype
assert l0.shape == shapes[0][1:]
ent = zarr.open_group(out + '/a.entropy.ome.zarr', mode='r')['0'][:]
prob = zarr.open_group(out + '/a.probability.ome.zarr', mode='r')['0'][:]
assert ent.min() >= 0 and ent.max() <= math.log(2) + 1e-6, (ent.min(), ent.max())
assert prob.min() >= 0 and prob.max() <= 1
print(json.dumps({'levels': len(shapes), 'cells': int(len(np.unique(l0)) - 1)}))
`;
const hasZarr = existsSync(python) && (await run(python, ['-c', 'import zarr']).catch(() => ({ code: 1 }))).code === 0;

const TINY = ['--depth', '2', '--base', '4'];

// In one describe: its hooks run around its tests also when a name pattern picks only some of them.
describe('the impartial CLI', () => {
  let dir = '';
  let a: Awaited<ReturnType<typeof writeSyntheticFixture>>;
  let b: Awaited<ReturnType<typeof writeSyntheticFixture>>;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'impartial-cli-'));
    a = await writeSyntheticFixture(dir, 'a', { size: 96, channels: 2, seed: 1 });
    b = await writeSyntheticFixture(dir, 'b', { size: 80, channels: 2, seed: 2 });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Made once, by whichever test asks first: a model trained from image a's outlines, and its outputs. */
  let trained: Promise<{ model: string; train: RunResult }> | undefined;
  let inferred: Promise<{ out: string; infer: RunResult }> | undefined;

  function trainedModel() {
    trained ??= (async () => {
      const model = path.join(dir, 'model');
      const train = await impartial([
        'train',
        '--images',
        a.image,
        '--labels',
        a.labels,
        '--steps',
        '4',
        ...TINY,
        '--out',
        model,
      ]);
      return { model, train };
    })();
    return trained;
  }

  function inferredOutputs() {
    inferred ??= (async () => {
      const { model } = await trainedModel();
      const out = path.join(dir, 'out');
      const infer = await impartial(['infer', '--model', model, '--out', out, '--passes', '2', a.image]);
      return { out, infer };
    })();
    return inferred;
  }

  test('eval trains on several images and prints one JSON object last', async () => {
    const r = await impartial([
      'eval',
      '--images',
      a.image,
      b.image,
      '--labels',
      a.labels,
      b.labels,
      '--steps',
      '3',
      '--passes',
      '2',
      ...TINY,
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    const json = JSON.parse(lines[lines.length - 1]!);
    for (const key of [
      'f1',
      'precision',
      'recall',
      'ap',
      'threshold',
      'f1_best',
      'threshold_best',
      'steps',
      'seconds',
      'backend',
    ])
      assert.ok(key in json, `missing ${key}`);
    assert.equal(json.steps, 3);
    assert.match(json.backend, /^wasm/);
    for (const key of ['f1', 'precision', 'recall', 'ap', 'f1_best'])
      assert.ok(json[key] >= 0 && json[key] <= 1, `${key}=${json[key]}`);
    assert.ok(json.threshold >= 0.2 && json.threshold <= 0.95, `threshold ${json.threshold}`);
    assert.ok(json.threshold_best >= 0.5 && json.threshold_best <= 0.95, 'the oracle sweeps 0.5-0.95');
    assert.equal(json.separation, 'distance', "the default cut: a watershed on the cells' cores");
    assert.ok(json.seed_threshold > 0 && json.seed_threshold <= 0.5, `core level ${json.seed_threshold}`);
    assert.deepEqual(
      json.images.map((i: { file: string }) => i.file),
      [a.image, b.image],
    );
    for (const img of json.images) assert.ok(img.f1 >= 0 && img.f1 <= 1 && img.ap >= 0 && img.ap <= 1);
    const meanF1 = (json.images[0].f1 + json.images[1].f1) / 2;
    assert.ok(Math.abs(json.f1 - meanF1) < 1e-9, 'F1 is the mean over the images');
    assert.deepEqual(json.f1_at, {}, 'a budget in steps has no default checkpoints');
    assert.match(r.stderr, /backend: wasm/);
    assert.match(r.stderr, /2 cells scribbled|cells, \d+ scribbled/);
  });

  test('eval --seeds runs each seed and reports the mean and the minimum, and F1 at each checkpoint', async () => {
    const r = await impartial([
      'eval',
      '--images',
      a.image,
      '--labels',
      a.labels,
      '--seconds',
      '2',
      '--checkpoints',
      '1',
      '--seeds',
      '0,3',
      '--passes',
      '1',
      ...TINY,
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    const json = JSON.parse(lines[lines.length - 1]!);
    assert.deepEqual(json.seeds, [0, 3]);
    assert.deepEqual(
      json.runs.map((x: { seed: number }) => x.seed),
      [0, 3],
    );
    const f1s = json.runs.map((x: { f1: number }) => x.f1);
    assert.ok(Math.abs(json.f1 - (f1s[0] + f1s[1]) / 2) < 1e-9, 'f1 is the mean over seeds');
    assert.equal(json.mean.f1.min, Math.min(...f1s));
    for (const run of json.runs) {
      assert.deepEqual(Object.keys(run.f1_at).sort(), ['1', '2'], 'F1 at the checkpoint and at the end');
      assert.equal(run.f1_at['2'], run.f1);
      assert.equal(run.images.length, 1);
    }
    assert.deepEqual(Object.keys(json.mean.f1_at).sort(), ['1', '2']);
    assert.match(r.stderr, /scribbled \(seed 3\)/);
    assert.match(r.stderr, /over seeds 0, 3: F1 /);
    const bad = await impartial(['eval', '--images', a.image, '--labels', a.labels, '--seeds', '0,x']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /--seeds takes integers/);
  });

  test('train from outlines, then infer writes OME-Zarr, ROI zip and GeoJSON that read back', async () => {
    const { train: t } = await trainedModel();
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /saved model m[0-9a-z]+ /);
    const { out, infer: r } = await inferredOutputs();
    assert.equal(r.code, 0, r.stderr);
    const files = (await readdir(out)).sort();
    assert.deepEqual(files, ['a.entropy.ome.zarr', 'a.geojson', 'a.ome.zarr', 'a.probability.ome.zarr', 'a.rois.zip']);
    const store = new FileSystemStore(path.join(out, 'a.ome.zarr'));
    const info = await readOmeZarrInfo(store);
    assert.deepEqual(info.labels, ['prediction']);
    const labels = await readOmeZarrLabels(store, 'prediction');
    const cells = new Set(labels.data);
    cells.delete(0);
    const rois = readRoiZip(new Uint8Array(await readFile(path.join(out, 'a.rois.zip'))));
    const geo = JSON.parse(await readFile(path.join(out, 'a.geojson'), 'utf8'));
    assert.equal(rois.length, cells.size, 'one ROI per predicted cell');
    assert.equal(geo.features.length, cells.size, 'one GeoJSON feature per predicted cell');
    assert.match(r.stdout, new RegExp(`a: ${cells.size} cells`));
  });

  test('train from a scribble raster chooses the cut on the cells its strokes outline', async () => {
    // Every cell of image b outlined, as a raster (1 = cell, 2 = background) rather than ROIs.
    const { scribbles } = synthesizeScribbles(b.sample.labels, { fraction: 1, seed: 0 });
    const raster = path.join(dir, 'b.scribbles.tif');
    await writeFile(raster, writeTiff([{ width: 80, height: 80, data: Uint8Array.from(scribbles.data) }]));
    const model = path.join(dir, 'model-from-raster');
    const r = await impartial([
      'train',
      '--images',
      b.image,
      '--labels',
      raster,
      '--steps',
      '2',
      ...TINY,
      '--out',
      model,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const saved = JSON.parse(await readFile(path.join(model, 'model.json'), 'utf8'));
    const cut = saved.lineage.instances;
    assert.equal(cut.separation, 'distance');
    // The default seed level (0.65) is not on the calibration grid (core depths of 1.5 to 6 px of 12).
    assert.ok(cut.seedThreshold <= 0.5, `seed level ${cut.seedThreshold} chosen from the outlines`);
  });

  test('infer outputs open in an independent reader (zarr-python)', {
    skip: hasZarr ? false : 'python3-zarr is not installed (apt-get install python3-zarr)',
  }, async () => {
    const { out, infer } = await inferredOutputs();
    assert.equal(infer.code, 0, infer.stderr);
    const r = await run(python, ['-c', zarrCheck, out]);
    assert.equal(r.code, 0, r.stderr);
    const { levels } = JSON.parse(r.stdout);
    assert.ok(levels >= 1);
  });

  test('bad input gets a clear message and a non-zero exit', async () => {
    const missing = await impartial([
      'eval',
      '--images',
      path.join(dir, 'nope.tif'),
      '--labels',
      a.labels,
      '--steps',
      '1',
    ]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nope\.tif: no such file/);

    const corruptTiff = path.join(dir, 'corrupt.tif');
    await writeFile(corruptTiff, Buffer.from('II*\0garbage that is not a tiff'));
    const badTiff = await impartial(['eval', '--images', corruptTiff, '--labels', a.labels, '--steps', '1']);
    assert.equal(badTiff.code, 1);
    assert.match(
      badTiff.stderr,
      new RegExp(
        'corrupt\\.tif: (not a readable TIFF|cannot decode TIFF data|' +
          'page 0.s header cannot be read \\(the file is truncated)',
      ),
    );

    const corruptZip = path.join(dir, 'corrupt.zip');
    await writeFile(corruptZip, Buffer.from('PK not really a zip'));
    const badZip = await impartial(['eval', '--images', a.image, '--labels', corruptZip, '--steps', '1']);
    assert.equal(badZip.code, 1);
    assert.match(badZip.stderr, /corrupt\.zip: the ROI set is not a readable zip file/);

    const three = await writeSyntheticFixture(dir, 'three', { size: 64, channels: 3, seed: 3 });
    const mixed = await impartial([
      'eval',
      '--images',
      a.image,
      three.image,
      '--labels',
      a.labels,
      three.labels,
      '--steps',
      '1',
    ]);
    assert.equal(mixed.code, 1);
    assert.match(mixed.stderr, /has 3 channels but .*a\.ome\.zarr has 2/);

    const { model, train } = await trainedModel();
    assert.equal(train.code, 0, train.stderr);
    assert.ok(existsSync(path.join(model, 'model.json')), `a trained model at ${model}`);
    const wrong = await impartial(['infer', '--model', model, '--out', path.join(dir, 'o2'), three.image]);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /model reads 2 channels but .* has 3/);

    const clobber = await impartial(['infer', '--model', model, '--out', dir, a.image]);
    assert.equal(clobber.code, 2);
    assert.match(clobber.stderr, /would replace the input/);
    assert.ok(existsSync(path.join(a.image, '.zattrs')), 'the input image is still there');

    const usage = await impartial(['eval', '--images', a.image, '--bogus']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /unknown option --bogus/);
    const lr = await impartial(['eval', '--images', a.image, '--labels', a.labels, '--lr', '0']);
    assert.equal(lr.code, 2);
    assert.match(lr.stderr, /--lr must be in \(0, 1\], not 0/);
    const pairs = await impartial(['eval', '--images', a.image, b.image, '--labels', a.labels]);
    assert.equal(pairs.code, 2);
    assert.match(pairs.stderr, /2 images but 1 label files/);
  });
});
