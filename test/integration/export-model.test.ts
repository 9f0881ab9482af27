import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { childLineage, DEFAULT_UNET, disposeWeights, initWeights, percentiles, predict } from '@impartial/shared';
import { initBackend, loadModelDir, saveModelDir } from '@impartial/shared/node';
import { decodeNpy } from '@impartial/shared/packaging';
import { runPackage, schemaErrors, unpack } from '../helpers/bioimageio.js';
import { syntheticTiff } from '../helpers/bridge.js';
import { impartial, repo } from '../helpers/cli.js';

// These tests compare the engine with onnxruntime (float32) to 1e-4: the engine computes in float32 here too.
process.env.IMPARTIAL_PRECISION = 'f32';

/*
 * `impartial export-model`: the shipped generic model as a bioimage.io package, checked
 * independently of the exporter: rdf.yaml against the spec's JSON schema, the ONNX weights by
 * onnxruntime against the packaged test output and against the engine run from the model folder.
 */

const GENERIC = path.join(repo, 'shared', 'models', 'generic-c2');

describe('impartial export-model --format bioimageio', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'impartial-export-'));
    await initBackend();
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a package that validates, whose ONNX weights give its test output and the engine to 1e-4', async () => {
    const image = path.join(dir, 'slide.tif');
    await writeFile(image, syntheticTiff(120, 4).bytes);
    const out = path.join(dir, 'generic.zip');
    const r = await impartial([
      'export-model',
      '--model',
      GENERIC,
      '--format',
      'bioimageio',
      '--out',
      out,
      '--name',
      'ImPartial generic 2ch',
      '--license',
      'MIT',
      '--author',
      'Ada Lovelace;0000-0002-1825-0097;Analytical Engines',
      '--cite',
      'Our lab (2026);https://example.org/lab',
      '--tags',
      'nuclei',
      'membrane',
      '--channel',
      'dapi;nuclear',
      'membrane;cell membrane',
      '--image',
      image,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr + r.stdout, /ONNX vs engine on the test input: max \|diff\| \d/);
    const zip = new Uint8Array(await readFile(out));
    const { rdf, files } = unpack(zip);
    assert.deepEqual(schemaErrors(rdf), []);
    assert.equal(rdf.name, 'ImPartial generic 2ch');
    assert.deepEqual(rdf.authors, [
      { name: 'Ada Lovelace', affiliation: 'Analytical Engines', orcid: '0000-0002-1825-0097' },
    ]);
    assert.equal(rdf.license, 'MIT');
    assert.deepEqual(
      rdf.cite.map((c) => c.doi ?? null),
      [null, '10.1101/2021.01.20.427458'],
    );
    assert.deepEqual(rdf.inputs[0]!.axes[1]!.channel_names, ['dapi', 'membrane']);
    assert.ok(rdf.weights.onnx!.opset_version! >= 13);
    assert.equal(rdf.weights.onnx!.parent, undefined, 'ONNX is the original weights entry');
    assert.equal(rdf.weights.tensorflow_js!.parent, 'onnx');
    assert.match(new TextDecoder().decode(files[rdf.documentation]), /# Validation/);
    // The test input is the centre of the image given, raw: 120 px cut to a multiple of 2^depth.
    const input = decodeNpy(files[rdf.inputs[0]!.test_tensor.source]!);
    assert.equal(input.shape[1], 2);
    assert.ok(input.shape[2]! <= 120 && input.shape[2]! % 8 === 0);
    assert.ok(Math.max(...input.data) > 1000, 'raw 16-bit values, normalised by the declared preprocessing');

    const run = await runPackage(zip);
    assert.ok(run.onnxVsTest <= 1e-4, `ONNX vs the packaged test output: ${run.onnxVsTest}`);
    assert.ok(run.onnxVsEngine <= 1e-4, `ONNX vs the engine from the package: ${run.onnxVsEngine}`);
    // And against the engine on the model folder itself, on the test input as the rdf says to scale it.
    const model = await loadModelDir(GENERIC);
    const [lo, hi] = percentiles(input.data, [1, 98]) as [number, number];
    const [, c, h, w] = input.shape as [number, number, number, number];
    const engine = await predict(
      model.config,
      model.weights,
      { width: w, height: h, channels: c, data: input.data.map((v) => (v - lo) / (hi - lo + 1e-6)) },
      { passes: 1, tile: Math.max(w, h), overlap: 0 },
    );
    disposeWeights(model.weights);
    const expected = decodeNpy(files[rdf.outputs[0]!.test_tensor.source]!);
    let max = 0;
    for (let i = 0; i < expected.data.length; i++)
      max = Math.max(max, Math.abs(expected.data[i]! - engine.probability.data[i]!));
    assert.ok(max <= 1e-4, `packaged test output vs the engine on the model folder: ${max}`);
  });

  it('without an image, tests on synthetic cells, for any channel count', async () => {
    const config = { ...DEFAULT_UNET, inChannels: 10, depth: 2, base: 4 };
    const modelDir = path.join(dir, 'ten');
    await saveModelDir(
      {
        config,
        weights: initWeights(config, 3),
        lineage: childLineage(null, {
          id: 'm10',
          author: 'ann',
          channels: Array.from({ length: 10 }, (_, i) => `ch${i}`),
          steps: 1,
          seconds: 1,
        }),
      },
      modelDir,
    );
    for (const model of [GENERIC, modelDir]) {
      const out = path.join(dir, `${path.basename(model)}.zip`);
      const r = await impartial(['export-model', '--model', model, '--out', out]);
      assert.equal(r.code, 0, r.stderr);
      const zip = new Uint8Array(await readFile(out));
      const { rdf, files } = unpack(zip);
      assert.deepEqual(schemaErrors(rdf), []);
      const input = decodeNpy(files[rdf.inputs[0]!.test_tensor.source]!);
      assert.deepEqual(input.shape, [1, model === GENERIC ? 2 : 10, 128, 128]);
      const run = await runPackage(zip);
      assert.ok(run.onnxVsTest <= 1e-4 && run.onnxVsEngine <= 1e-4, JSON.stringify(run));
    }
  });

  it('refuses what it cannot write, with the reason', async () => {
    const out = path.join(dir, 'x.zip');
    const format = await impartial(['export-model', '--model', GENERIC, '--format', 'onnx', '--out', out]);
    assert.equal(format.code, 2);
    assert.match(format.stderr, /--format onnx: the only format is bioimageio/);
    const licence = await impartial(['export-model', '--model', GENERIC, '--out', out, '--license', 'Free-4-All']);
    assert.equal(licence.code, 2);
    assert.match(licence.stderr, /--license Free-4-All is not an SPDX licence id/);
    const orcid = await impartial(['export-model', '--model', GENERIC, '--out', out, '--author', 'Ada;1234']);
    assert.equal(orcid.code, 2);
    assert.match(orcid.stderr, /not a valid ORCID/);
    const folder = await impartial(['export-model', '--model', dir, '--out', out]);
    assert.equal(folder.code, 2);
    assert.match(folder.stderr, /has no model\.json/);
  });
});
