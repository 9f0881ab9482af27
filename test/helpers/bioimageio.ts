import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { deserializeModel, disposeWeights, percentiles, predict, toArrayBuffer } from '@impartial/shared';
import { initBackend } from '@impartial/shared/node';
import { decodeNpy } from '@impartial/shared/packaging';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { unzipSync } from 'fflate';
import ort from 'onnxruntime-node';
import { parse } from 'yaml';
import { repoRoot } from './paths.js';

/*
 * An independent check of a bioimage.io package: its rdf.yaml against the spec's own JSON schema
 * (the reference copy beside the repository when there is one, else the bridge's vendored copy),
 * and its ONNX weights run by onnxruntime on its test input with the preprocessing rdf.yaml
 * declares, against its test output and against the engine run from its TF.js weights.
 */

const REFERENCE_SCHEMA = path.join(repoRoot, '..', 'shared', 'schemas', 'bioimageio', 'bioimageio_schema.json');
const VENDORED_SCHEMA = path.join(repoRoot, 'bridge-server', 'schemas', 'bioimageio', 'bioimageio_schema.json');

let validate: ((rdf: unknown) => string[]) | null = null;

/** Errors of rdf.yaml against the whole bioimage.io schema (none when valid). */
export function schemaErrors(rdf: unknown): string[] {
  if (!validate) {
    const file = existsSync(REFERENCE_SCHEMA) ? REFERENCE_SCHEMA : VENDORED_SCHEMA;
    const ajv = new Ajv2020({ strict: false, allErrors: false });
    for (const f of ['uri', 'file-path', 'path', 'email', 'date', 'date-time']) ajv.addFormat(f, true);
    const v = ajv.compile(JSON.parse(readFileSync(file, 'utf8')));
    validate = (rdf) => (v(rdf) ? [] : (v.errors ?? []).map((e) => `${e.instancePath}: ${e.message}`));
  }
  return validate(rdf);
}

export interface RdfModel {
  name: string;
  authors: Array<{ name: string; orcid?: string }>;
  cite: Array<{ text: string; doi?: string }>;
  license?: string;
  parent?: { id: string };
  documentation: string;
  covers?: string[];
  inputs: Array<{
    axes: Array<{ type: string; channel_names?: string[] }>;
    test_tensor: { source: string; sha256: string };
    preprocessing: Array<{ id: string; kwargs: { min_percentile: number; max_percentile: number; eps: number } }>;
  }>;
  outputs: Array<{ test_tensor: { source: string; sha256: string } }>;
  weights: Record<string, { source: string; sha256: string; opset_version?: number; parent?: string }>;
}

export function unpack(zip: Uint8Array): { files: Record<string, Uint8Array>; rdf: RdfModel } {
  const files = unzipSync(zip);
  return { files, rdf: parse(new TextDecoder().decode(files['rdf.yaml'])) as RdfModel };
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = a.length === b.length ? 0 : Number.POSITIVE_INFINITY;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/** Runs the package: ONNX vs its test output, and ONNX vs the engine from its TF.js weights. */
export async function runPackage(zip: Uint8Array): Promise<{ onnxVsTest: number; onnxVsEngine: number }> {
  const { files, rdf } = unpack(zip);
  const input = decodeNpy(files[rdf.inputs[0]!.test_tensor.source]!);
  const expected = decodeNpy(files[rdf.outputs[0]!.test_tensor.source]!);
  const { min_percentile, max_percentile, eps } = rdf.inputs[0]!.preprocessing[0]!.kwargs;
  const [lo, hi] = percentiles(input.data, [min_percentile, max_percentile]) as [number, number];
  const scaled = input.data.map((v) => (v - lo) / (hi - lo + eps));
  const session = await ort.InferenceSession.create(files[rdf.weights.onnx!.source]!);
  const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', scaled, input.shape) });
  const onnx = out[session.outputNames[0]!]!.data as Float32Array;
  await session.release();
  await initBackend();
  const tfjs = unzipSync(files[rdf.weights.tensorflow_js!.source]!);
  const model = deserializeModel(
    JSON.parse(new TextDecoder().decode(tfjs['model.json'])),
    toArrayBuffer(tfjs['weights.bin']!),
  );
  const [, c, h, w] = input.shape as [number, number, number, number];
  const engine = await predict(
    model.config,
    model.weights,
    { width: w, height: h, channels: c, data: scaled },
    {
      passes: 1,
      tile: Math.max(w, h),
      overlap: 0,
    },
  );
  disposeWeights(model.weights);
  return { onnxVsTest: maxDiff(onnx, expected.data), onnxVsEngine: maxDiff(onnx, engine.probability.data) };
}
