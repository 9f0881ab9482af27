// Bundled into a page by engine-webgpu.test.ts: the engine on tfjs' cpu backend and on WebGPU in
// Chromium (SwiftShader here, a real GPU elsewhere), from the same weights, batch and dropout masks.
// What each computed goes back to the test, which compares them.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import {
  DEFAULT_UNET,
  forward,
  impartialLoss,
  initWeights,
  type PatchBatch,
  predict,
  Random,
  registerConvGradients,
  seedDropoutMasks,
  Trainer,
  type UNetConfig,
  type UNetWeights,
  weightsFromTensors,
} from '@impartial/shared';

const config: UNetConfig = { ...DEFAULT_UNET, inChannels: 2, depth: 2, base: 8 };
const PATCH = 32;
const STEPS = 3;

export interface BackendRun {
  backend: string;
  /** Gradient of the loss for each weight, at the start. */
  gradients: Record<string, number[]>;
  /** Per step: total, foreground, background and reconstruction losses. */
  losses: number[][];
  /** The weights after STEPS steps of Adam. */
  weights: Record<string, number[]>;
  /** Monte-Carlo dropout inference (3 passes, dropout sampled) of a 64 x 64 image with the trained weights. */
  probability: number[];
  entropy: number[];
}

/** A batch of 2 patches: smooth channels, blind spots every few pixels, scribbles in two corners. */
function batchOf(seed: number): PatchBatch {
  const rng = new Random(seed);
  const size = 2,
    n = size * PATCH * PATCH;
  const target = new Float32Array(n * 2),
    input = new Float32Array(n * 2),
    blindMask = new Float32Array(n * 2);
  const foreground = new Float32Array(n),
    background = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const x = i % PATCH,
      y = Math.floor(i / PATCH) % PATCH;
    for (let c = 0; c < 2; c++) {
      const v = 0.5 + 0.4 * Math.sin((x + 3 * c) * 0.4) * Math.cos(y * 0.3) + rng.uniform(-0.05, 0.05);
      target[i * 2 + c] = v;
      const blind = (x + 2 * y + c) % 7 === 0;
      blindMask[i * 2 + c] = blind ? 1 : 0;
      input[i * 2 + c] = blind ? rng.uniform(0, 1) : v;
    }
    if (x < 8 && y < 8) foreground[i] = 1;
    if (x >= 24 && y >= 24) background[i] = 1;
  }
  return { size, patch: PATCH, channels: 2, input, target, blindMask, foreground, background };
}

async function read(weights: UNetWeights): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [name, v] of weights) out[name] = Array.from(await v.data());
  return out;
}

async function runOn(backend: string, initial: Map<string, { data: Float32Array; shape: number[] }>) {
  if (!(await tf.setBackend(backend))) throw new Error(`the ${backend} backend did not start`);
  await tf.ready();
  if (backend === 'cpu') registerConvGradients('cpu'); // as initBackend does in Node
  const weights = weightsFromTensors(new Map([...initial].map(([k, v]) => [k, tf.tensor(v.data, v.shape)])));
  const batch = batchOf(3);
  seedDropoutMasks(11);
  const gradients: Record<string, number[]> = {};
  const grads = tf.tidy(() => {
    const shape4: [number, number, number, number] = [batch.size, PATCH, PATCH, 2];
    const shape3: [number, number, number] = [batch.size, PATCH, PATCH];
    const input = tf.tensor4d(batch.input, shape4);
    return tf.variableGrads(
      () =>
        impartialLoss({
          output: forward(config, weights, input, { dropout: true }),
          target: tf.tensor4d(batch.target, shape4),
          blindMask: tf.tensor4d(batch.blindMask, shape4),
          foreground: tf.tensor3d(batch.foreground, shape3),
          background: tf.tensor3d(batch.background, shape3),
          components: config.components,
        }).total,
      [...weights.values()],
    ).grads;
  });
  for (const [name, v] of weights) gradients[name] = Array.from(await grads[v.name]!.data());
  for (const g of Object.values(grads)) g.dispose();
  seedDropoutMasks(12);
  const trainer = new Trainer(config, weights);
  const losses: number[][] = [];
  for (let s = 0; s < STEPS; s++) {
    const l = await trainer.step(batch);
    losses.push([l.loss, l.foreground, l.background, l.reconstruction]);
  }
  const after = await read(weights);
  seedDropoutMasks(13);
  const data = new Float32Array(64 * 64 * 2);
  for (let i = 0; i < data.length; i++) data[i] = 0.5 + 0.4 * Math.sin(i * 0.37);
  const p = await predict(
    config,
    weights,
    { width: 64, height: 64, channels: 2, data },
    {
      tile: 64,
      overlap: 0,
      passes: 3,
      dropout: true,
    },
  );
  for (const v of weights.values()) v.dispose();
  const run: BackendRun = {
    backend: tf.getBackend(),
    gradients,
    losses,
    weights: after,
    probability: Array.from(p.probability.data),
    entropy: Array.from(p.entropy.data),
  };
  return run;
}

async function adapterName(): Promise<string> {
  const adapter = (await navigator.gpu?.requestAdapter()) as { info?: { vendor: string; architecture: string } } | null;
  return adapter ? `${adapter.info?.vendor} ${adapter.info?.architecture}` : 'none';
}

/** Runs the engine on cpu, then on WebGPU, from the same starting weights. */
async function runEngineBackends(): Promise<{ adapter: string; cpu: BackendRun; webgpu: BackendRun }> {
  await tf.setBackend('cpu');
  const start = initWeights(config, 5);
  const initial = new Map<string, { data: Float32Array; shape: number[] }>();
  for (const [name, v] of start) initial.set(name, { data: (await v.data()) as Float32Array, shape: v.shape });
  for (const v of start.values()) v.dispose();
  const cpu = await runOn('cpu', initial);
  const webgpu = await runOn('webgpu', initial);
  return { adapter: await adapterName(), cpu, webgpu };
}

(globalThis as { runEngineBackends?: typeof runEngineBackends }).runEngineBackends = runEngineBackends;
