// Model sharing figures (npm run bench -- models, or alone: node bench/models.mjs): a bioimage.io
// package of the shipped generic model (time to build it, with its onnxruntime check), one
// deterministic pass of the U-Net on a 512 x 512 x 2 image by the engine (TF.js, this machine's
// backend) and by onnxruntime-node on the exported ONNX weights, side by side, and their largest
// difference; and the catalogue's list route with many published entries and uses.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { normalizeImage, predict, syntheticCells } from '@impartial/shared';
import { initBackend, loadModelDir } from '@impartial/shared/node';
import { unzipSync } from 'fflate';
import ort from 'onnxruntime-node';
import { buildPackage } from '../bridge-server/dist/bioimageio/index.js';
import { Store } from '../bridge-server/dist/store/store.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const GENERIC = path.join(repo, 'shared', 'models', 'generic-c2');
const REPEATS = Number(process.env.BENCH_MODEL_REPEATS ?? 5);
const SIDE = 512;
const log = (m) => process.stderr.write(`${m}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timed(fn) {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

const backend = await initBackend();
log(`backend: ${backend.description}`);
const meta = {
  name: 'ImPartial generic 2ch',
  description: 'bench',
  authors: [{ name: 'bench' }],
  cite: [],
  tags: [],
  channels: [
    { name: 'c0', description: '' },
    { name: 'c1', description: '' },
  ],
  training: { steps: 0, seconds: 0, metrics: {} },
  lineageAuthors: ['bench'],
  created: new Date().toISOString(),
};
const exports = [];
let pkg;
for (let i = 0; i < 3; i++) {
  const r = await timed(() => buildPackage({ modelDir: GENERIC, meta, producerVersion: 'bench' }));
  exports.push(r.ms);
  pkg = r.value;
}
log(`package: ${(pkg.zip.byteLength / 1024).toFixed(0)} KB, export median ${median(exports).toFixed(0)} ms`);

const model = await loadModelDir(GENERIC);
const { image } = syntheticCells({ width: SIDE, height: SIDE, channels: 2, seed: 5 });
const input = normalizeImage(image);
const engineMs = [];
let engine;
for (let i = 0; i < REPEATS; i++) {
  const r = await timed(() => predict(model.config, model.weights, input, { passes: 1, tile: SIDE, overlap: 0 }));
  engineMs.push(r.ms);
  engine = r.value.probability.data;
}
const session = await ort.InferenceSession.create(unzipSync(pkg.zip)['weights.onnx']);
const feeds = { raw: new ort.Tensor('float32', input.data, [1, 2, SIDE, SIDE]) };
const onnxMs = [];
let onnx;
for (let i = 0; i < REPEATS + 1; i++) {
  const r = await timed(() => session.run(feeds));
  if (i > 0) onnxMs.push(r.ms); // the first run plans the graph
  onnx = r.value.probability.data;
}
let maxDiff = 0;
for (let i = 0; i < onnx.length; i++) maxDiff = Math.max(maxDiff, Math.abs(onnx[i] - engine[i]));
log(`engine ${median(engineMs).toFixed(0)} ms, onnxruntime ${median(onnxMs).toFixed(0)} ms, max |diff| ${maxDiff}`);

// The catalogue's list: ENTRIES published entries with USES uses each, as the REST route reads them.
const ENTRIES = Number(process.env.BENCH_CATALOGUE_ENTRIES ?? 500);
const dir = mkdtempSync(path.join(tmpdir(), 'impartial-bench-catalogue-'));
const store = await Store.open(dir);
for (let i = 0; i < ENTRIES; i++) {
  const id = `c${i}`;
  await store.catalogue.add({
    id,
    series: id,
    version: 1,
    model: `m${i}`,
    name: `Model ${i}`,
    description: 'nuclei',
    authors: [{ name: `user${i % 50}` }],
    license: 'MIT',
    cite: [{ text: 't', url: 'https://example.org' }],
    tags: ['nuclei'],
    channels: [{ name: 'dapi', description: '' }],
    training: { images: 1, strokes: 2, steps: 10, seconds: 1, metrics: {} },
    lineage: { parent: null, authors: [`user${i % 50}`] },
    visibility: 'everyone',
    group: null,
    publisher: `user${i % 50}`,
    publisherId: `user${i % 50}`,
    groupId: null,
    created: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    cover: false,
    supersedes: null,
  });
  for (let u = 0; u < 10; u++) await store.catalogue.recordUse(id, `user${u}`, u % 2 ? 'inference' : 'fine-tune');
}
const listMs = [];
for (let i = 0; i < 20; i++) listMs.push((await timed(() => store.catalogue.list())).ms);
await store.close();
rmSync(dir, { recursive: true, force: true });

console.log(
  JSON.stringify({
    packageKb: pkg.zip.byteLength / 1024,
    exportMs: median(exports),
    exportMaxDiff: pkg.maxDiff,
    side: SIDE,
    engineMs: median(engineMs),
    onnxMs: median(onnxMs),
    maxDiff,
    backend: backend.name,
    catalogueEntries: ENTRIES,
    catalogueListMs: median(listMs),
  }),
);
// The wasm backend's and onnxruntime's thread pools keep the process alive: the figures are out.
process.exit(0);
