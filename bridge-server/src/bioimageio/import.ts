import { createHash } from 'node:crypto';
import path from 'node:path';
import {
  checkModelFiles,
  deserializeModel,
  disposeWeights,
  InputError,
  MODEL_JSON,
  MODEL_WEIGHTS,
  predict,
  readZip,
  toArrayBuffer,
} from '@impartial/shared';
import { decodeNpy } from '@impartial/shared/packaging';
import { parse } from 'yaml';
import { maxAbsDiff } from './onnx-check.js';
import { scaleRange } from './preprocessing.js';
import { rdfValidators } from './schema.js';

/** What a package may hold: a few files, each within these sizes. */
const PACKAGE_LIMITS = { entries: 64, entryBytes: 256 * 1024 * 1024, totalBytes: 512 * 1024 * 1024 };
const RDF_MAX_BYTES = 1024 * 1024;
const TOLERANCE = 1e-4;
const MAX_TEST_PIXELS = 1024 * 1024;

export interface ImportedPackage {
  name: string;
  /** model.json (as parsed, checked) and weights.bin of the ImPartial U-Net inside. */
  manifestJson: unknown;
  weights: Uint8Array;
  /** Largest |engine - packaged test output| on the packaged test input (null when the package has none). */
  testDiff: number | null;
}

type Rdf = {
  name: string;
  type: string;
  weights: Record<string, { source: string; sha256?: string | null } | null>;
  inputs: Array<{ test_tensor?: { source: string; sha256?: string | null } | null }>;
  outputs: Array<{ test_tensor?: { source: string; sha256?: string | null } | null }>;
};

const bad = (message: string) => new InputError(`bioimage.io package: ${message}`);
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The package's files by their path relative to rdf.yaml. */
function unpack(bytes: Uint8Array): { rdfText: string; files: Map<string, Uint8Array> } {
  const entries = readZip(bytes, {
    accept: (name) => !name.endsWith('/') && !name.startsWith('__MACOSX/'),
    maxEntries: PACKAGE_LIMITS.entries,
    maxEntryBytes: PACKAGE_LIMITS.entryBytes,
    maxBytesOf: (name) => (/(^|\/)(rdf|bioimageio)\.yaml$/.test(name) ? RDF_MAX_BYTES : Number.POSITIVE_INFINITY),
    maxTotalBytes: PACKAGE_LIMITS.totalBytes,
    what: 'the model package',
  });
  const rdfName = [...entries.keys()]
    .filter((n) => /(^|\/)(rdf|bioimageio)\.yaml$/.test(n))
    .sort((a, b) => a.split('/').length - b.split('/').length)[0];
  if (!rdfName) throw bad('no rdf.yaml (or bioimageio.yaml) in the zip');
  const root = path.posix.dirname(rdfName);
  const files = new Map<string, Uint8Array>();
  for (const [name, data] of entries) {
    if (root === '.' || name.startsWith(`${root}/`)) files.set(root === '.' ? name : name.slice(root.length + 1), data);
  }
  return { rdfText: new TextDecoder().decode(entries.get(rdfName)), files };
}

/** A file the rdf names, present and matching its sha256. */
function fileOf(files: Map<string, Uint8Array>, what: string, ref: { source: string; sha256?: string | null }) {
  if (/^[a-z]+:\/\//i.test(ref.source))
    throw bad(`${what} is a URL (${ref.source}); the bridge reads only packaged files`);
  const data = files.get(path.posix.normalize(ref.source).replace(/^\.\//, ''));
  if (!data) throw bad(`${what}: ${ref.source} is missing from the package`);
  if (ref.sha256 && sha256(data) !== ref.sha256.toLowerCase()) {
    throw bad(
      `${what}: the sha256 of ${ref.source} does not match (rdf.yaml says ${ref.sha256}, the file has ${sha256(data)})`,
    );
  }
  return data;
}

/**
 * Reads and checks a bioimage.io model package: rdf.yaml valid against the model 0.5 schema,
 * every weights file and test tensor present with the checksum it states, and weights the bridge
 * can run (an ImPartial U-Net's TF.js weights). When it has test tensors, the engine must give its
 * test output on its test input to 1e-4. Whatever is wrong is named; nothing is stored here.
 */
export async function readPackage(bytes: Uint8Array): Promise<ImportedPackage> {
  const { rdfText, files } = unpack(bytes);
  let rdf: Rdf;
  try {
    rdf = parse(rdfText, { maxAliasCount: 100, uniqueKeys: true }) as Rdf;
  } catch (e) {
    throw bad(`rdf.yaml is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!rdf || typeof rdf !== 'object' || rdf.type !== 'model')
    throw bad('rdf.yaml does not describe a model (type: model)');
  const errors = rdfValidators().model(rdf);
  if (errors.length > 0) {
    const unique = [...new Set(errors)];
    throw bad(`rdf.yaml is not a valid bioimage.io model description (format 0.5): ${unique.slice(0, 3).join('; ')}`);
  }
  for (const [format, w] of Object.entries(rdf.weights)) if (w) fileOf(files, `weights ${format}`, w);
  const tensors = (list: Rdf['inputs'], kind: string) =>
    list.map((t, i) =>
      t.test_tensor ? decodeNpyNamed(fileOf(files, `${kind} ${i} test tensor`, t.test_tensor)) : null,
    );
  const inputs = tensors(rdf.inputs, 'input'),
    outputs = tensors(rdf.outputs, 'output');
  const tfjs = rdf.weights.tensorflow_js;
  const formats = Object.keys(rdf.weights).filter((k) => rdf.weights[k]);
  if (!tfjs) {
    throw bad(
      `its weights are ${formats.join(', ')}: the bridge runs ImPartial U-Nets from their tensorflow_js weights ` +
        '(packages exported by ImPartial); open this model in a tool that runs those formats ' +
        '(ilastik, deepImageJ, bioimageio.core)',
    );
  }
  const inner = readZip(fileOf(files, 'weights tensorflow_js', tfjs), {
    accept: (n) => [MODEL_JSON, MODEL_WEIGHTS].includes(path.posix.basename(n)),
    maxEntries: 2,
    maxEntryBytes: PACKAGE_LIMITS.entryBytes,
    maxTotalBytes: PACKAGE_LIMITS.entryBytes,
    what: `the tensorflow_js weights ${tfjs.source}`,
  });
  const byName = new Map([...inner].map(([k, v]) => [path.posix.basename(k), v]));
  const json = byName.get(MODEL_JSON),
    weights = byName.get(MODEL_WEIGHTS);
  if (!json || !weights) {
    throw bad(
      `the tensorflow_js weights (${tfjs.source}) are not an ImPartial U-Net (${MODEL_JSON} and ${MODEL_WEIGHTS})`,
    );
  }
  let manifestJson: unknown;
  try {
    manifestJson = JSON.parse(new TextDecoder().decode(json));
    checkModelFiles(manifestJson, weights.byteLength);
  } catch (e) {
    throw bad(`the tensorflow_js weights are a TF.js model the bridge cannot run: ${(e as Error).message}`);
  }
  const testDiff = inputs[0] && outputs[0] ? await engineDiff(manifestJson, weights, inputs[0], outputs[0]) : null;
  if (testDiff !== null && !(testDiff <= TOLERANCE)) {
    throw bad(
      `its weights do not give its test output: they differ by ${testDiff.toExponential(2)} (at most ${TOLERANCE})`,
    );
  }
  return { name: rdf.name, manifestJson, weights, testDiff };
}

function decodeNpyNamed(bytes: Uint8Array) {
  try {
    return decodeNpy(bytes);
  } catch (e) {
    throw bad(`a test tensor: ${(e as Error).message}`);
  }
}

/** The engine on the test input (scaled by percentiles 1-98, as the package declares) against the test output. */
async function engineDiff(
  manifestJson: unknown,
  weights: Uint8Array,
  input: { shape: number[]; data: Float32Array },
  output: { shape: number[]; data: Float32Array },
): Promise<number> {
  const model = deserializeModel(manifestJson, toArrayBuffer(weights));
  try {
    const [n, c, h, w] = input.shape as [number, number, number, number];
    if (input.shape.length !== 4 || n !== 1 || c !== model.config.inChannels) {
      throw bad(`its test input is ${input.shape.join('x')}, not 1 x ${model.config.inChannels} x H x W`);
    }
    // One pass over the whole test input: a bounded one (ours are at most 256 x 256).
    if (h * w > MAX_TEST_PIXELS) {
      throw bad(`its test input is ${h} x ${w}; the bridge checks test inputs of at most ${MAX_TEST_PIXELS} pixels`);
    }
    const data = scaleRange(input.data);
    const p = await predict(
      model.config,
      model.weights,
      { width: w, height: h, channels: c, data },
      {
        passes: 1,
        tile: Math.max(w, h),
        overlap: 0,
      },
    );
    return maxAbsDiff(p.probability.data, output.data);
  } finally {
    disposeWeights(model.weights);
  }
}
