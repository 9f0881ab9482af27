import {
  DEFAULT_UNET,
  disposeWeights,
  forwardMacs,
  initWeights,
  normalizeImage,
  PatchSampler,
  predict,
  synthesizeScribbles,
  syntheticCells,
  Trainer,
  type UNetConfig,
} from '@impartial/shared';
import { initBackend } from '@impartial/shared/node';
import { parseArgs } from '../cli/args.js';
import { log } from '../cli/progress.js';
import { startTimedRun, watchingOthers } from '../cli/timed-runs.js';

export const BENCH_HELP = `impartial bench [--json] [--steps N]

Speed figures: seconds per training step (median) and GFLOP/s for the depth 3 / base 16 and
depth 4 / base 32 U-Nets (batch 4, 128x128x2), and tiled inference throughput (megapixels/s,
T=3 Monte-Carlo passes) on a 2048x2048 synthetic image.`;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function stepTime(depth: number, base: number, steps: number) {
  const config: UNetConfig = { ...DEFAULT_UNET, inChannels: 2, depth, base };
  const sample = syntheticCells({ width: 256, height: 256, channels: 2, seed: 1 });
  const sampler = new PatchSampler(
    [normalizeImage(sample.image)],
    [synthesizeScribbles(sample.labels, { fraction: 0.2, seed: 1 }).scribbles],
    { seed: 1 },
  );
  const weights = initWeights(config, 0);
  const trainer = new Trainer(config, weights);
  const batch = sampler.batch(4);
  const times: number[] = [];
  for (let i = 0; i < steps + 2; i++) {
    const t0 = performance.now();
    await trainer.step(batch);
    if (i >= 2) times.push((performance.now() - t0) / 1000);
  }
  trainer.dispose();
  disposeWeights(weights);
  const s = median(times);
  const gflop = (3 * 2 * forwardMacs(config, 128, 128) * 4) / 1e9;
  return { s_per_step: s, s_min: Math.min(...times), gflop_per_step: gflop, gflops: gflop / s };
}

async function inferenceThroughput(size: number) {
  const config: UNetConfig = { ...DEFAULT_UNET, inChannels: 2 };
  const weights = initWeights(config, 0);
  const image = normalizeImage(syntheticCells({ width: size, height: size, channels: 2, seed: 2 }).image);
  await predict(
    config,
    weights,
    normalizeImage(syntheticCells({ width: 256, height: 256, channels: 2, seed: 3 }).image),
    { passes: 3, dropout: true },
  ); // warm-up
  const t0 = performance.now();
  await predict(config, weights, image, { passes: 3, dropout: true });
  const s = (performance.now() - t0) / 1000;
  disposeWeights(weights);
  return { seconds: s, mpx_per_s: (size * size) / 1e6 / s };
}

export async function benchCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, {
    json: { kind: 'boolean', default: false },
    steps: { kind: 'number', default: 8 },
    'infer-size': { kind: 'number', default: 2048 },
  });
  const timed = startTimedRun('bench', log);
  const backend = await initBackend();
  log(`backend: ${backend.description}`);
  const { value, others } = await watchingOthers(timed, () => measure(a.steps as number, a['infer-size'] as number));
  const out = { backend: backend.description, ...value, ...(others.length ? { shared_cpu: others } : {}) };
  if (others.length) log(`shared the CPU with ${others.join(', ')}: these timings are not comparable`);
  if (a.json) process.stdout.write(`${JSON.stringify(out)}\n`);
  return 0;
}

/** The engine's step times and inference throughput, logged as they come. */
async function measure(steps: number, size: number) {
  const small = await stepTime(3, 16, steps);
  log(
    `train step d3/b16, batch 4, 128x128x2: ${small.s_per_step.toFixed(3)} s (median of ${steps}), ` +
      `${small.gflops.toFixed(1)} GFLOP/s`,
  );
  const large = await stepTime(4, 32, Math.max(3, Math.round(steps / 2)));
  log(`train step d4/b32, batch 4, 128x128x2: ${large.s_per_step.toFixed(3)} s, ${large.gflops.toFixed(1)} GFLOP/s`);
  const inf = await inferenceThroughput(size);
  log(`inference ${size}x${size}x2, T=3, d3/b16: ${inf.seconds.toFixed(1)} s, ${inf.mpx_per_s.toFixed(3)} Mpx/s`);
  return {
    train_step_s_d3b16b4: small.s_per_step,
    train_gflops_d3b16b4: small.gflops,
    train_step_s_d4b32b4: large.s_per_step,
    train_gflops_d4b32b4: large.gflops,
    infer_mpx_per_s: inf.mpx_per_s,
    infer_seconds: inf.seconds,
    infer_size: size,
  };
}
