import {
  chooseInstanceParameters,
  type FloatImage,
  type ImpartialModel,
  INFERENCE_DEFAULTS,
  type InstanceOptions,
  keepLabels,
  type LabelImage,
  predict,
  scoreThresholds,
  synthesizeScribbles,
  THRESHOLD_SWEEP,
} from '@impartial/shared';
import { initBackend } from '@impartial/shared/node';
import { describeInstances, parseArgs, separationOption, UsageError } from '../cli/args.js';
import { checkPairs, loadImages, loadInstanceLabels } from '../cli/data.js';
import { budgetOf, INFERENCE_FLAGS, TRAINING_FLAGS, TRAINING_HELP } from '../cli/flags.js';
import { log, progressBar } from '../cli/progress.js';
import { startingModel, trainWithProgress } from '../cli/training.js';

export const EVAL_HELP = `impartial eval --images FILE... --labels ZIP|TIFF... [options]

Synthesises scribbles from ground truth for a fraction of the cells (seeded), trains one model on
all images together, and scores instances on every cell (F1 at IoU >= 0.5, precision, recall,
mean AP 0.5:0.95).

  --scribble-fraction F  share of cells that get scribbles (default 0.2, the paper's protocol)
${TRAINING_HELP}
  --checkpoints S...     also evaluate at these training times (s)
  --passes T             Monte-Carlo dropout passes at inference (default ${INFERENCE_DEFAULTS.passes})
  --init generic|scratch start from the shipped generic model (default, when one exists
                         for the channel count) or from random weights
  --separation components|seeded  instances from connected regions (ImPartial) or a
                         watershed on the probability that splits touching cells (default seeded)
  --json                 last line: one JSON object with the results`;

interface EvalRecord {
  f1: number;
  precision: number;
  recall: number;
  ap: number;
  threshold: number;
  separation: string;
  seed_threshold: number;
  seed_min_size: number;
  f1_best: number;
  threshold_best: number;
  steps: number;
  seconds: number;
  backend: string;
}

async function evaluateModel(
  model: ImpartialModel,
  images: Awaited<ReturnType<typeof loadImages>>,
  truth: LabelImage[],
  outlined: LabelImage[],
  passes: number,
  instance: Pick<InstanceOptions, 'separation'>,
) {
  const probs: FloatImage[] = [];
  const bar = progressBar('inference', images.length, ' images');
  for (const [k, img] of images.entries()) {
    probs.push((await predict(model.config, model.weights, img.normalized, { passes })).probability);
    bar.update(k + 1);
  }
  bar.stop();
  const chosen = { ...instance, ...chooseInstanceParameters(probs, outlined, instance) };
  const own = scoreThresholds(probs, truth, [chosen.threshold], chosen).get(chosen.threshold)!;
  // The oracle: the same cut, with the threshold swept over 0.5-0.95 against the ground truth.
  const [bestT, best] = [...scoreThresholds(probs, truth, THRESHOLD_SWEEP, chosen)].reduce((a, b) =>
    b[1].f1 > a[1].f1 ? b : a,
  );
  return { own, chosen, threshold: chosen.threshold, best, bestT };
}

export async function evalCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, {
    images: { kind: 'list' },
    labels: { kind: 'list' },
    'scribble-fraction': { kind: 'number', default: 0.2 },
    ...TRAINING_FLAGS,
    checkpoints: { kind: 'list' },
    passes: INFERENCE_FLAGS.passes!,
    json: { kind: 'boolean', default: false },
    init: { kind: 'string', default: 'generic' },
    separation: { kind: 'string', default: 'seeded' },
  });
  const instance = separationOption(a.separation as string);
  const { images: imageFiles, labels: labelFiles } = checkPairs(a.images as string[], a.labels as string[]);
  const fraction = a['scribble-fraction'] as number;
  if (!(fraction > 0 && fraction <= 1)) throw new UsageError('--scribble-fraction must be in (0, 1]');
  if (a.seconds !== undefined && a.steps !== undefined) throw new UsageError('give --seconds or --steps, not both');
  const budget = budgetOf(a);
  const seed = a.seed as number;
  const checkpoints = ((a.checkpoints as string[] | undefined) ?? []).map(Number);
  if (checkpoints.some((c) => !(c > 0))) throw new UsageError('--checkpoints takes positive seconds');

  const backend = await initBackend();
  log(`backend: ${backend.description}`);
  const images = await loadImages(imageFiles);
  const parent = await startingModel(a.init as string, images[0]!.raw.channels, {
    depth: a.depth as number,
    base: a.base as number,
  });
  const truth: LabelImage[] = [],
    scribbles: LabelImage[] = [],
    outlined: LabelImage[] = [];
  for (const [k, img] of images.entries()) {
    const gt = await loadInstanceLabels(labelFiles[k]!, img.raw.width, img.raw.height);
    const syn = synthesizeScribbles(gt, { fraction, seed: seed + k });
    truth.push(gt);
    scribbles.push(syn.scribbles);
    outlined.push(keepLabels(gt, syn.chosenCells));
    log(
      `${imageFiles[k]}: ${img.raw.width}x${img.raw.height}x${img.raw.channels}, ` +
        `${new Set(gt.data).size - 1} cells, ${syn.chosenCells.length} scribbled`,
    );
  }
  const passes = a.passes as number;
  const records: Array<{ seconds: number; steps: number; f1: number; f1_best: number; threshold: number }> = [];
  const { model, result } = await trainWithProgress({
    images: images.map((i) => i.normalized),
    scribbles,
    channelNames: images[0]!.raw.channelNames?.slice() ?? [],
    ...budget,
    seed,
    batchSize: a.batch as number,
    depth: a.depth as number,
    base: a.base as number,
    backend,
    ...(parent ? { parent } : {}),
    checkpoints: checkpoints.filter((c) => !('seconds' in budget) || c < budget.seconds),
    onCheckpoint: async (m, t, step) => {
      const r = await evaluateModel(m, images, truth, outlined, passes, instance);
      records.push({ seconds: t, steps: step, f1: r.own.f1, f1_best: r.best.f1, threshold: r.threshold });
      log(
        `checkpoint ${t.toFixed(0)} s (${step} steps): F1 ${r.own.f1.toFixed(3)} (${describeInstances(r.chosen)}), ` +
          `oracle best ${r.best.f1.toFixed(3)} at ${r.bestT}`,
      );
    },
  });
  const r = await evaluateModel(model, images, truth, outlined, passes, instance);
  const out: EvalRecord & { checkpoints?: typeof records } = {
    f1: r.own.f1,
    precision: r.own.precision,
    recall: r.own.recall,
    ap: r.own.meanAP,
    threshold: r.threshold,
    separation: r.chosen.separation,
    seed_threshold: r.chosen.seedThreshold,
    seed_min_size: r.chosen.seedMinSize,
    f1_best: r.best.f1,
    threshold_best: r.bestT,
    steps: result.steps,
    seconds: Math.round(result.seconds * 10) / 10,
    backend: backend.description,
    ...(records.length ? { checkpoints: records } : {}),
  };
  const print = a.json ? log : (m: string) => process.stdout.write(`${m}\n`);
  print(
    `F1 ${out.f1.toFixed(3)}  precision ${out.precision.toFixed(3)}  recall ${out.recall.toFixed(3)}  ` +
      `AP ${out.ap.toFixed(3)}`,
  );
  print(`instances: ${describeInstances(r.chosen)} (chosen from the outlined cells, not the ground truth)`);
  print(`oracle: best F1 ${out.f1_best.toFixed(3)} at threshold ${out.threshold_best} (uses the ground truth)`);
  print(`backend ${out.backend}, ${out.steps} steps, ${out.seconds} s of training`);
  if (a.json) process.stdout.write(`${JSON.stringify(out)}\n`);
  return 0;
}
