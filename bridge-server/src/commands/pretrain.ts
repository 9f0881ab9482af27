import { rm } from 'node:fs/promises';
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
import { resumedFrom, resumedSeed, saveCheckpoint } from '../jobs/checkpoints.js';
import { DataFiles } from '../store/files.js';

export const PRETRAIN_HELP = `impartial pretrain --out MODEL_DIR [--channels N] [--steps N] [--images N] [--seed N]
                          [--dropout R] [--realistic SHARE] [--checkpoint-every N] [--resume]

Trains a small generic model on synthetic multiplexed cells (ground-truth scribbles on most
cells, random channel order and cell size), so that training on real scribbles starts from a
model that already knows cells and their boundaries. This is how the shipped model
(shared/models/generic-c2) is made: impartial pretrain --out shared/models/generic-c2 --channels 2

Every --checkpoint-every steps (default 200) the weights and Adam's state go to MODEL_DIR.checkpoint;
--resume goes on from there after an interruption (the same other options), and the checkpoint is
removed once the model is saved. --dropout is the rate while pretraining (default 0.2, the rate
trainings use; generic-c1 and generic-c2 pretrained so did better than at ImPartial's 0.5, which
generic-c6 was made with: --channels 6 --dropout 0.5); a training that starts from the model uses
its own (--dropout of train).
--realistic SHARE (0-1, default 0) is the share of images drawn as realistic tissue: irregular
outlines, fading and dim membranes, membrane-only cells, Gaussian blur and shot noise, denser sheets
(generic-c1 is made with --channels 1 --realistic 0.5).`;

/** The step size the shipped models were pretrained with (constant); trainings from them use the product's own. */
const PRETRAIN_STEP_SIZE = { learningRate: 5e-4, decay: false };

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
    // The rate trainings use (generic-c6 was pretrained at ImPartial's 0.5).
    dropout: TRAINING_FLAGS.dropout!,
    realistic: { kind: 'number', default: 0 },
    'checkpoint-every': { kind: 'number', default: 200 },
    resume: { kind: 'boolean', default: false },
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
    // Realistic images are also more crowded: dense sheets of touching cells, as in tumour tissue.
    const realistic = (a.realistic as number) > 0 && rng.next() < (a.realistic as number);
    const sample = syntheticCells({
      width: 256,
      height: 256,
      channels: Math.max(channels, 3),
      seed: rng.fork(),
      cellRadius: rng.uniform(6, 12),
      density: realistic ? rng.uniform(0.5, 0.9) : rng.uniform(0.35, 0.75),
      clustered: realistic ? rng.uniform(0.5, 0.95) : rng.uniform(0.3, 0.8),
      noise: rng.uniform(0.02, 0.12),
      illumination: rng.uniform(0, 0.5),
      realistic,
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
    dropout: a.dropout as number,
  };
  const checkpointDir = `${path.resolve(out)}.checkpoint`;
  const files = DataFiles.folder(path.dirname(checkpointDir));
  const resumed = a.resume ? await resumedFrom(checkpointDir, files, log) : null;
  if (a.resume && !resumed) log(`no checkpoint at ${checkpointDir}: starting afresh`);
  if (resumed && resumed.model.config.inChannels !== channels)
    throw new UsageError(`the checkpoint is for ${resumed.model.config.inChannels} channels, not ${channels}`);
  if (resumed) log(`resuming at step ${resumed.steps} of ${a.steps}`);
  const weights = resumed?.model.weights ?? initWeights(config, a.seed as number);
  const done = { steps: resumed?.steps ?? 0, seconds: resumed?.seconds ?? 0 };
  const steps = a.steps as number;
  const bar = progressBar('pretraining', steps, ' steps');
  const lineage = (stepsDone: number, seconds: number) =>
    childLineage(null, {
      id: newId('m'),
      author: 'impartial pretrain',
      channels: Array.from({ length: channels }, (_, c) => `any${c}`),
      steps: stepsDone,
      seconds,
      backend: backend.description,
      strokesHash: `synthetic:images=${a.images},seed=${a.seed}`,
    });
  const seed = resumedSeed(a.seed as number, done.steps);
  const result = await train(config, weights, new PatchSampler(images, scribbles, { seed }), {
    steps: Math.max(0, steps - done.steps),
    seed,
    batchSize: a.batch as number,
    ...PRETRAIN_STEP_SIZE,
    ...(resumed?.optimizer ? { optimizerState: resumed.optimizer } : {}),
    checkpointEvery: a['checkpoint-every'] as number,
    onCheckpoint: async (seconds, step, optimizerState) => {
      const at = { parent: null, steps: done.steps + step, seconds: done.seconds + seconds };
      const model = { config, weights, lineage: lineage(at.steps, at.seconds) };
      await saveCheckpoint(checkpointDir, model, at, await optimizerState(), files);
    },
    onProgress: (p) =>
      bar.update(
        done.steps + p.step,
        `loss ${p.loss.toFixed(3)} ${p.stepsPerSecond.toFixed(2)} steps/s ETA ${Math.ceil(p.etaSeconds)} s`,
      ),
  });
  bar.stop();
  const total = { steps: done.steps + result.steps, seconds: done.seconds + result.seconds };
  const model: ImpartialModel = { config, weights, lineage: lineage(total.steps, total.seconds) };
  await saveModelDir(model, out);
  await rm(checkpointDir, { recursive: true, force: true });
  process.stdout.write(
    `saved generic model to ${path.resolve(out)} (${total.steps} steps, ${total.seconds.toFixed(0)} s)\n`,
  );
  return 0;
}
