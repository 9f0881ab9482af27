// Tests of shared/src/packaging: the U-Net written as an ONNX graph, run by onnxruntime against the engine.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { DEFAULT_UNET, initWeights, type MultiChannelImage, predict, type UNetConfig } from '@impartial/shared';
import { initBackend, saveModelDir } from '@impartial/shared/node';
import { decodeOnnx, ONNX_OPSET, unetToOnnx, weightsOfModelFiles } from '@impartial/shared/packaging';
import ort from 'onnxruntime-node';

// onnxruntime computes in float32: so does the engine here, for a 1e-4 comparison of the graph's math.
process.env.IMPARTIAL_PRECISION = 'f32';
await initBackend();

/** The ONNX file of a fresh U-Net, through the model files the bridge keeps (model.json + weights.bin). */
async function exported(config: UNetConfig, seed: number) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'impartial-onnx-'));
  try {
    const weights = initWeights(config, seed);
    await saveModelDir(
      {
        config,
        weights,
        lineage: { id: 'm1', parent: null, created: '', author: 't', channels: [], steps: 0, trainSeconds: 0 },
      },
      dir,
    );
    const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8'));
    const { named } = weightsOfModelFiles(json, new Uint8Array(await readFile(path.join(dir, 'weights.bin'))));
    return { weights, onnx: unetToOnnx(config, named, { producerVersion: 'test' }) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function smooth(width: number, height: number, channels: number): MultiChannelImage {
  const data = new Float32Array(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37) * 0.5 + 0.5 + Math.cos(i * 0.011);
  return { width, height, channels, data };
}

for (const [config, width, height] of [
  [{ ...DEFAULT_UNET, inChannels: 2, depth: 2, base: 4 }, 48, 32],
  [{ ...DEFAULT_UNET, inChannels: 3, depth: 3, base: 8, components: [3, 2] as [number, number] }, 64, 64],
] as const) {
  const what = `depth ${config.depth}, ${config.inChannels} channels, ${width}x${height}`;
  test(`${what}: onnxruntime gives the engine's probability to 1e-4`, async () => {
    const { weights, onnx } = await exported(config, 5);
    const image = smooth(width, height, config.inChannels);
    const engine = await predict(config, weights, image, { passes: 1, tile: Math.max(width, height), overlap: 0 });
    const session = await ort.InferenceSession.create(onnx);
    const out = await session.run({
      raw: new ort.Tensor('float32', image.data, [1, config.inChannels, height, width]),
    });
    await session.release();
    const probability = out.probability!;
    assert.deepEqual(probability.dims, [1, 1, height, width]);
    let max = 0;
    for (let i = 0; i < engine.probability.data.length; i++)
      max = Math.max(max, Math.abs((probability.data as Float32Array)[i]! - engine.probability.data[i]!));
    assert.ok(max <= 1e-4, `max |onnx - engine| = ${max}`);
  });
}

test('the graph declares opset 17, a symbolic batch and size, and holds every weight once', async () => {
  const config = { ...DEFAULT_UNET, inChannels: 2, depth: 2, base: 4 };
  const { onnx } = await exported(config, 1);
  const model = decodeOnnx(onnx);
  assert.deepEqual(model.opsetImport, [{ domain: '', version: ONNX_OPSET }]);
  assert.ok(ONNX_OPSET >= 13);
  const dims = model.graph.input[0]!.type.tensorType.shape.dim;
  assert.deepEqual(dims, [{ dimParam: 'batch' }, { dimValue: 2 }, { dimParam: 'y' }, { dimParam: 'x' }]);
  const names = model.graph.initializer.map((t) => t.name);
  assert.equal(new Set(names).size, names.length);
  assert.ok(names.includes('head.weight') && names.includes('up0.conv2.bias'));
  assert.deepEqual(model.graph.initializer.find((t) => t.name === 'inc.conv1.weight')!.dims, [4, 2, 3, 3]);
});

test('refuses weights that do not fit the config', async () => {
  const config = { ...DEFAULT_UNET, inChannels: 2, depth: 2, base: 4 };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'impartial-onnx-'));
  try {
    await saveModelDir(
      {
        config,
        weights: initWeights(config, 1),
        lineage: { id: 'm1', parent: null, created: '', author: 't', channels: [], steps: 0, trainSeconds: 0 },
      },
      dir,
    );
    const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8'));
    const { named } = weightsOfModelFiles(json, new Uint8Array(await readFile(path.join(dir, 'weights.bin'))));
    named.delete('head.bias');
    assert.throws(() => unetToOnnx(config, named, { producerVersion: 't' }), /missing weight head/);
    assert.throws(() => weightsOfModelFiles(json, new Uint8Array(10)), /weights\.bin has 10 bytes/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
