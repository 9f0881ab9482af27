import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  deserializeModel,
  disposeWeights,
  MODEL_JSON,
  MODEL_WEIGHTS,
  predict,
  syntheticCells,
  toArrayBuffer,
} from '@impartial/shared';
import { encodeNpy, ONNX_OPSET, unetToOnnx, weightsOfModelFiles } from '@impartial/shared/packaging';
import * as tf from '@tensorflow/tfjs-core';
import { zipSync } from 'fflate';
import { stringify } from 'yaml';
import { documentation } from './documentation.js';
import { maxAbsDiff, ONNXRUNTIME_VERSION, runOnnx } from './onnx-check.js';
import { scaleRange } from './preprocessing.js';
import { buildRdf, FILES, type PackageMeta } from './rdf.js';
import { rdfValidators } from './schema.js';

/** How far the ONNX weights may stray from the engine on the test input. */
const ONNX_TOLERANCE = 1e-4;

export interface ExportInput {
  /** A model version's folder: model.json + weights.bin. */
  modelDir: string;
  meta: PackageMeta;
  /** Raw pixels (1, C, H, W) for the test input; synthetic cells when absent. */
  sample?: { shape: number[]; data: Float32Array };
  cover?: Uint8Array;
  producerVersion: string;
}

export interface ExportResult {
  zip: Uint8Array;
  /** Largest |ONNX - engine| of the probability on the test input. */
  maxDiff: number;
  rdf: Record<string, unknown>;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The test input: the sample cut to multiples of 2^depth (synthetic cells without one), raw values. */
function testInput(channels: number, depth: number, sample?: ExportInput['sample']) {
  const m = 2 ** depth;
  if (!sample) {
    const side = Math.max(m, 128);
    // The generator makes 2-8 channels; more are its planes again.
    const made = Math.min(8, Math.max(2, channels));
    const { image } = syntheticCells({ width: side, height: side, channels: made, seed: 11 });
    const n = side * side;
    const data = new Float32Array(channels * n);
    for (let c = 0; c < channels; c++) data.set(image.data.subarray((c % made) * n, ((c % made) + 1) * n), c * n);
    return { shape: [1, channels, side, side], data };
  }
  const [, c, h, w] = sample.shape as [number, number, number, number];
  const th = Math.floor(h / m) * m,
    tw = Math.floor(w / m) * m;
  if (c !== channels || th === 0 || tw === 0)
    throw new Error(`the sample is ${sample.shape.join('x')}; need ${channels} channels`);
  const data = new Float32Array(c * th * tw);
  for (let k = 0; k < c; k++)
    for (let y = 0; y < th; y++)
      data.set(sample.data.subarray((k * h + y) * w, (k * h + y) * w + tw), (k * th + y) * tw);
  return { shape: [1, c, th, tw], data };
}

/**
 * A bioimage.io model package of a model version: ONNX weights written from the U-Net, the TF.js
 * weights as trained, a test input and the engine's output for it, README and rdf.yaml. The ONNX
 * weights must give the engine's probability on the test input to 1e-4, and rdf.yaml must pass the
 * bioimage.io schema, or nothing is written.
 */
export async function buildPackage(input: ExportInput): Promise<ExportResult> {
  const jsonBytes = new Uint8Array(await readFile(path.join(input.modelDir, MODEL_JSON)));
  const weightBytes = new Uint8Array(await readFile(path.join(input.modelDir, MODEL_WEIGHTS)));
  const manifestJson = JSON.parse(new TextDecoder().decode(jsonBytes)) as unknown;
  const { manifest, named } = weightsOfModelFiles(manifestJson, weightBytes);
  const { config } = manifest;
  const onnx = unetToOnnx(config, named, {
    producerVersion: input.producerVersion,
    docString:
      `${input.meta.name}: ImPartial U-Net; input raw (N, ${config.inChannels}, H, W) scaled by ` +
      'percentiles 1-98, output the cell probability (N, 1, H, W)',
  });
  const raw = testInput(config.inChannels, config.depth, input.sample);
  const [, C, H, W] = raw.shape as [number, number, number, number];
  const normalized = scaleRange(raw.data);
  const model = deserializeModel(manifestJson, toArrayBuffer(weightBytes));
  let engine: Float32Array;
  try {
    const p = await predict(
      model.config,
      model.weights,
      { width: W, height: H, channels: C, data: normalized },
      {
        passes: 1,
        tile: Math.max(W, H),
        overlap: 0,
      },
    );
    engine = p.probability.data;
  } finally {
    disposeWeights(model.weights);
  }
  const fromOnnx = await runOnnx(onnx, { shape: raw.shape, data: normalized });
  const maxDiff = maxAbsDiff(fromOnnx, engine);
  if (!(maxDiff <= ONNX_TOLERANCE)) {
    throw new Error(
      `the ONNX weights differ from the engine by ${maxDiff} on the test input (at most ${ONNX_TOLERANCE})`,
    );
  }
  const files: Record<string, Uint8Array> = {
    [FILES.onnx]: onnx,
    [FILES.tfjs]: zipSync({ [MODEL_JSON]: jsonBytes, [MODEL_WEIGHTS]: weightBytes }),
    [FILES.testInput]: encodeNpy(raw),
    [FILES.testOutput]: encodeNpy({ shape: [1, 1, H, W], data: engine }),
    [FILES.documentation]: new TextEncoder().encode(
      documentation(input.meta, config, { maxDiff, onnxruntime: ONNXRUNTIME_VERSION, inputShape: raw.shape }),
    ),
    ...(input.cover ? { [FILES.cover]: input.cover } : {}),
  };
  const hash = (name: string) => (files[name] ? sha256(files[name]) : undefined);
  const rdf = buildRdf(input.meta, config, {
    sha256: {
      onnx: hash(FILES.onnx),
      tfjs: hash(FILES.tfjs),
      testInput: hash(FILES.testInput),
      testOutput: hash(FILES.testOutput),
      documentation: hash(FILES.documentation),
      cover: hash(FILES.cover),
    },
    producerVersion: input.producerVersion,
    tensorflowVersion: tf.version_core,
    opset: ONNX_OPSET,
    hasCover: input.cover !== undefined,
  });
  const errors = rdfValidators().whole(rdf);
  if (errors.length > 0) throw new Error(`the rdf.yaml written does not pass the bioimage.io schema: ${errors[0]}`);
  files['rdf.yaml'] = new TextEncoder().encode(stringify(rdf, { lineWidth: 0 }));
  return { zip: zipSync(files, { level: 6 }), maxDiff, rdf };
}
