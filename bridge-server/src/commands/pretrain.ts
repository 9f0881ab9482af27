import path from 'node:path';
import {
  childLineage,
  DEFAULT_UNET,
  type ImpartialModel,
  initWeights,
  newId,
  normalizeImage,
  PatchSampler,
  Random,
  selectChannels,
  synthesizeScribbles,
  syntheticCells,
  train,
  type UNetConfig,
} from '@impartial/shared';
import { initBackend, saveModelDir } from '@impartial/shared/node';
import { parseArgs, UsageError } from '../cli/args.js';
import { TRAINING_FLAGS } from '../cli/flags.js';
import { log, progressBar } from '../cli/progress.js';

export const PRETRAIN_HELP = `impartial pretrain --out MODEL_DIR [--channels N] [--steps N] [--images N] [--seed N]

Trains a small generic model on synthetic multiplexed cells (ground-truth scribbles on most
cells, random channel order and cell size), so that training on real scribbles starts from a
model that already knows cells and their boundaries. This is how the shipped model
(shared/models/generic-c2) is made: impartial pretrain --out shared/models/generic-c2 --channels 2`;

export async function pretrainCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, {
    out: { kind: 'string' },
    channels: { kind: 'number', default: 2 },
    steps: { kind: 'number', default: 2400 },
    images: { kind: 'number', default: 40 },
    seed: TRAINING_FLAGS.seed!,
    batch: TRAINING_FLAGS.batch!,
    depth: TRAINING_FLAGS.depth!,
    base: TRAINING_FLAGS.base!,
  });
  const out = a.out as string | undefined;
  if (!out) throw new UsageError('--out MODEL_DIR is required');
  const channels = a.channels as number;
  const backend = await initBackend();
  log(`backend: ${backend.description}`);
  const rng = new Random(a.seed as number);
  const images = [],
    scribbles = [];
  for (let i = 0; i < (a.images as number); i++) {
    // Synthetic images have 2-8 marker channels; draw more and keep a random subset in random order,
    // so the model does not learn which channel is nuclear.
    const sample = syntheticCells({
      width: 256,
      height: 256,
      channels: Math.max(channels, 3),
      seed: rng.fork(),
      cellRadius: rng.uniform(6, 12),
      density: rng.uniform(0.35, 0.75),
      clustered: rng.uniform(0.3, 0.8),
      noise: rng.uniform(0.02, 0.12),
      illumination: rng.uniform(0, 0.5),
    });
    const order = rng.permutation(Array.from({ length: sample.image.channels }, (_, c) => c)).slice(0, channels);
    images.push(normalizeImage(selectChannels(sample.image, order)));
    scribbles.push(synthesizeScribbles(sample.labels, { fraction: rng.uniform(0.3, 0.8), seed: rng.fork() }).scribbles);
  }
  const config: UNetConfig = {
    ...DEFAULT_UNET,
    inChannels: channels,
    depth: a.depth as number,
    base: a.base as number,
  };
  const weights = initWeights(config, a.seed as number);
  const steps = a.steps as number;
  const bar = progressBar('pretraining', steps, ' steps');
  const result = await train(config, weights, new PatchSampler(images, scribbles, { seed: a.seed as number }), {
    steps,
    batchSize: a.batch as number,
    onProgress: (p) =>
      bar.update(
        p.step,
        `loss ${p.loss.toFixed(3)} ${p.stepsPerSecond.toFixed(2)} steps/s ETA ${Math.ceil(p.etaSeconds)} s`,
      ),
  });
  bar.stop();
  const model: ImpartialModel = {
    config,
    weights,
    lineage: childLineage(null, {
      id: newId('m'),
      author: 'impartial pretrain',
      channels: Array.from({ length: channels }, (_, c) => `any${c}`),
      steps: result.steps,
      seconds: result.seconds,
      backend: backend.description,
      strokesHash: `synthetic:images=${a.images},seed=${a.seed}`,
    }),
  };
  await saveModelDir(model, out);
  process.stdout.write(
    `saved generic model to ${path.resolve(out)} (${result.steps} steps, ${result.seconds.toFixed(0)} s)\n`,
  );
  return 0;
}
