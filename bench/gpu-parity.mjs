// Numerical parity of two backends (default: webgpu against tfjs' pure-JS cpu kernels, the reference):
// the same tiny U-Net from the same weights takes 3 training steps on the same batch, then one
// deterministic inference. Prints one JSON line; exit code 1 when the figures are off, 3 when the
// first backend cannot start. Usage: node bench/gpu-parity.mjs [webgpu,cpu | wasm,cpu]
import {
  DEFAULT_UNET,
  disposeWeights,
  initWeights,
  normalizeImage,
  PatchSampler,
  predict,
  registerConvGradients,
  synthesizeScribbles,
  syntheticCells,
  Trainer,
  weightsFromTensors,
} from '@impartial/shared';
import { initBackend } from '@impartial/shared/node';
import * as tf from '@tensorflow/tfjs-core';

const [first, second] = (process.argv[2] ?? 'webgpu,cpu').split(',');
const STEPS = 3;
// No dropout: its masks come from an unseedable module-level generator, and both backends must see the same net.
const config = { ...DEFAULT_UNET, inChannels: 2, depth: 2, base: 8, dropout: 0 };
const sample = syntheticCells({ width: 96, height: 96, channels: 2, seed: 5 });
const image = normalizeImage(sample.image);
const scribbles = synthesizeScribbles(sample.labels, { fraction: 0.3, seed: 5 }).scribbles;
const batch = new PatchSampler([image], [scribbles], { patch: 64, seed: 5 }).batch(4);

/** name -> { shape, data } of a weight set, read back to JS (asynchronously: WebGPU in Node has no sync read). */
const snapshot = async (weights) => {
  const entries = [];
  for (const [name, v] of weights) entries.push([name, { shape: v.shape, data: (await v.data()).slice() }]);
  return new Map(entries);
};
const upload = (snap) => {
  const tensors = new Map([...snap].map(([name, w]) => [name, tf.tensor(w.data, w.shape)]));
  const weights = weightsFromTensors(tensors);
  for (const t of tensors.values()) t.dispose();
  return weights;
};

/** Training from `start`, then inference with `inferWith` (the same weights on every backend). */
async function run(start, inferWith) {
  const weights = upload(start);
  // A higher rate than training's default so three steps move the weights well above rounding.
  const trainer = new Trainer(config, weights, { learningRate: 1e-2, weightDecay: 1e-4 });
  const losses = [];
  for (let i = 0; i < STEPS; i++) losses.push((await trainer.step(batch)).loss);
  trainer.dispose();
  const trained = await snapshot(weights);
  disposeWeights(weights);
  const fixed = upload(inferWith ?? trained);
  const prob = (await predict(config, fixed, image, { passes: 1, tile: 64, overlap: 16 })).probability.data;
  disposeWeights(fixed);
  return { losses, trained, prob };
}

const maxAbsDiff = (a, b) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
const maxAbs = (a) => a.reduce((m, x) => Math.max(m, Math.abs(x)), 0);

// Emscripten unrefs wasm's pthread workers once loaded; a wait on them could then end the process mid-await (exit
// code 13, no output; seen once). A ref'd timer keeps the loop alive until the process.exit below.
setInterval(() => {}, 1 << 30);
let info;
try {
  info = await initBackend(first);
} catch (e) {
  console.error(`parity: ${first} backend cannot start: ${e.message}`);
  process.exit(3);
}
console.error(`parity: ${info.description} against ${second}`);
const init = initWeights(config, 7);
const start = await snapshot(init);
disposeWeights(init);
const a = await run(start);

if (second === 'cpu') await import('@tensorflow/tfjs-backend-cpu');
if (!(await tf.setBackend(second))) throw new Error(`backend ${second} cannot start`);
registerConvGradients(second);
const b = await run(start, a.trained);

// Weights: worst element, worst relative to each tensor's scale, and how far the two updates
// (trained - start) differ relative to the update itself (Adam's first steps are sign-like, so
// elements with near-zero gradients can differ by up to the learning rate; the norm shows whether
// that matters).
let wAbs = 0,
  wRel = 0,
  dd = 0,
  du = 0;
for (const [name, wa] of a.trained) {
  const wb = b.trained.get(name).data,
    w0 = start.get(name).data;
  const d = maxAbsDiff(wa.data, wb);
  wAbs = Math.max(wAbs, d);
  wRel = Math.max(wRel, d / Math.max(maxAbs(wa.data), 1e-12));
  for (let i = 0; i < w0.length; i++) {
    dd += (wa.data[i] - wb[i]) ** 2;
    du += (wa.data[i] - w0[i]) ** 2;
  }
}
const lossAbs = maxAbsDiff(a.losses, b.losses);
const out = {
  backends: [info.description, second],
  losses: { [first]: a.losses, [second]: b.losses },
  loss_max_abs_diff: lossAbs,
  loss_max_rel_diff: lossAbs / Math.max(...a.losses.map(Math.abs)),
  weights_max_abs_diff: wAbs,
  weights_max_rel_diff: wRel,
  update_rel_l2_diff: Math.sqrt(dd / du),
  infer_prob_max_abs_diff: maxAbsDiff(a.prob, b.prob),
};
const ok = out.loss_max_rel_diff < 1e-3 && out.update_rel_l2_diff < 5e-2 && out.infer_prob_max_abs_diff < 1e-3;
console.log(JSON.stringify({ ...out, ok }));
process.exit(ok ? 0 : 1); // exit: wasm worker threads would keep the process alive
