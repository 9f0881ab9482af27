import {
  chooseInstanceParameters,
  disposeWeights,
  type FloatImage,
  type ImpartialModel,
  INFERENCE_DEFAULTS,
  type InferOptions,
  type InstanceOptions,
  keepLabels,
  type LabelImage,
  type MatchScores,
  matchInstances,
  meanScores,
  predict,
  probabilityToInstances,
  scoreThresholds,
  synthesizeScribbles,
  THRESHOLD_SWEEP,
} from '@impartial/shared';
import { initBackend } from '@impartial/shared/node';
import { describeInstances, parseArgs, separationOption, UsageError } from '../cli/args.js';
import { checkPairs, loadImages, loadInstanceLabels } from '../cli/data.js';
import { budgetOf, INFERENCE_FLAGS, stepSizeOf, TRAINING_FLAGS, TRAINING_HELP } from '../cli/flags.js';
import { log, progressBar } from '../cli/progress.js';
import { startTimedRun, type TimedRun, watchingOthers } from '../cli/timed-runs.js';
import { startingModel, trainWithProgress } from '../cli/training.js';

export const EVAL_HELP = `impartial eval --images FILE... --labels ZIP|TIFF... [options]

Synthesises scribbles from ground truth for a fraction of the cells (seeded), trains one model on
all images together, and scores instances on every cell (F1 at IoU >= 0.5, precision, recall,
mean AP 0.5:0.95), over all images and per image.

  --scribble-fraction F  share of cells that get scribbles (default 0.2, the paper's protocol)
${TRAINING_HELP}
  --seeds N,N...         one run per seed (scribbles and training), with the mean and the
                         minimum over them (instead of --seed)
  --checkpoints S...     also evaluate at these training times (s); default 60 and 120 (those
                         within a --seconds budget)
  --passes T             passes averaged at inference, over mirrored views (default ${INFERENCE_DEFAULTS.passes})
  --mc-dropout           sample dropout in every pass (Monte-Carlo dropout) instead of averaging
                         the deterministic network's mirrored views
  --init generic|scratch start from the shipped generic model for the channel count
                         (default; other counts: the 6-channel one, adapted) or from random weights
  --separation components|seeded|distance  instances from connected regions (ImPartial), a
                         watershed on the probability, or one on the cells' cores (distance to
                         the cut's edge times p) that also splits cells p joins (default distance)
  --json                 last line: one JSON object with the results`;

/** Scores of one image, or the mean over images. */
interface Scores {
  f1: number;
  precision: number;
  recall: number;
  ap: number;
}

interface EvalRecord extends Scores {
  seed: number;
  threshold: number;
  separation: string;
  seed_threshold: number;
  seed_min_size: number;
  f1_best: number;
  threshold_best: number;
  steps: number;
  seconds: number;
  backend: string;
  /** F1 at each checkpoint's training time and at the end of the budget, by seconds. */
  f1_at: Record<string, number>;
  images: Array<Scores & { file: string }>;
  checkpoints?: Array<{ seconds: number; steps: number; f1: number; f1_best: number; threshold: number }>;
  /** Other timed impartial commands seen running during this run: its timings are not comparable. */
  shared_cpu?: string[];
}

/** Default checkpoints: F1 at 60 s and 120 s of training, those inside the budget. */
const DEFAULT_CHECKPOINTS = [60, 120];

/** How eval predicts: passes averaged, and whether each samples dropout. */
type Inference = Required<Pick<InferOptions, 'passes' | 'dropout'>>;

const scoresOf = (m: MatchScores): Scores => ({ f1: m.f1, precision: m.precision, recall: m.recall, ap: m.meanAP });

async function evaluateModel(
  model: ImpartialModel,
  images: Awaited<ReturnType<typeof loadImages>>,
  truth: LabelImage[],
  outlined: LabelImage[],
  inference: Inference,
  instance: Pick<InstanceOptions, 'separation'>,
) {
  const probs: FloatImage[] = [];
  const bar = progressBar('inference', images.length, ' images');
  for (const [k, img] of images.entries()) {
    probs.push((await predict(model.config, model.weights, img.normalized, inference)).probability);
    bar.update(k + 1);
  }
  bar.stop();
  const chosen = { ...instance, ...chooseInstanceParameters(probs, outlined, instance) };
  const perImage = probs.map((p, k) => matchInstances(truth[k]!, probabilityToInstances(p, chosen)));
  // The oracle: the same cut, with the threshold swept over 0.5-0.95 against the ground truth.
  const [bestT, best] = [...scoreThresholds(probs, truth, THRESHOLD_SWEEP, chosen)].reduce((a, b) =>
    b[1].f1 > a[1].f1 ? b : a,
  );
  return { own: meanScores(perImage), perImage, chosen, threshold: chosen.threshold, best, bestT };
}

/** What every run of one eval call shares: the images, their ground truth and the options. */
interface EvalSetup {
  imageFiles: string[];
  images: Awaited<ReturnType<typeof loadImages>>;
  truth: LabelImage[];
  fraction: number;
  budget: ReturnType<typeof budgetOf>;
  stepSize: ReturnType<typeof stepSizeOf>;
  checkpoints: number[];
  inference: Inference;
  instance: Pick<InstanceOptions, 'separation'>;
  /** The starting model, loaded afresh for each run: training changes the weights it is given. */
  parent: () => ReturnType<typeof startingModel>;
  backend: Awaited<ReturnType<typeof initBackend>>;
  a: Record<string, unknown>;
  timed: TimedRun;
}

/** One run: scribbles drawn with `seed` (image k with seed + k), a training with `seed`, the scores. */
async function evaluateSeed(setup: EvalSetup, seed: number): Promise<EvalRecord> {
  const { images, truth, a, instance, inference, backend } = setup;
  const scribbles: LabelImage[] = [],
    outlined: LabelImage[] = [];
  for (const [k, img] of images.entries()) {
    const syn = synthesizeScribbles(truth[k]!, { fraction: setup.fraction, seed: seed + k });
    scribbles.push(syn.scribbles);
    outlined.push(keepLabels(truth[k]!, syn.chosenCells));
    log(
      `${setup.imageFiles[k]}: ${img.raw.width}x${img.raw.height}x${img.raw.channels}, ` +
        `${new Set(truth[k]!.data).size - 1} cells, ${syn.chosenCells.length} scribbled (seed ${seed})`,
    );
  }
  const records: NonNullable<EvalRecord['checkpoints']> = [];
  const parent = await setup.parent();
  const { value, others } = await watchingOthers(setup.timed, async () => {
    const { model, result } = await trainWithProgress({
      images: images.map((i) => i.normalized),
      scribbles,
      channelNames: images[0]!.raw.channelNames?.slice() ?? [],
      ...setup.budget,
      seed,
      batchSize: a.batch as number,
      depth: a.depth as number,
      base: a.base as number,
      dropout: a.dropout as number,
      ...setup.stepSize,
      backend,
      ...(parent ? { parent } : {}),
      checkpoints: setup.checkpoints,
      onCheckpoint: async (m, t, step) => {
        const r = await evaluateModel(m, images, truth, outlined, inference, instance);
        records.push({ seconds: t, steps: step, f1: r.own.f1, f1_best: r.best.f1, threshold: r.threshold });
        log(
          `checkpoint ${t.toFixed(0)} s (${step} steps): F1 ${r.own.f1.toFixed(3)} (${describeInstances(r.chosen)}), ` +
            `oracle best ${r.best.f1.toFixed(3)} at ${r.bestT}`,
        );
      },
    });
    const r = await evaluateModel(model, images, truth, outlined, inference, instance);
    disposeWeights(model.weights);
    return { r, result };
  });
  const { r, result } = value;
  const f1At: Record<string, number> = {};
  records.forEach((c, k) => {
    f1At[String(setup.checkpoints[k] ?? Math.round(c.seconds))] = c.f1;
  });
  if ('seconds' in setup.budget) f1At[String(setup.budget.seconds)] = r.own.f1;
  return {
    seed,
    ...scoresOf(r.own),
    threshold: r.threshold,
    separation: r.chosen.separation,
    seed_threshold: r.chosen.seedThreshold,
    seed_min_size: r.chosen.seedMinSize,
    f1_best: r.best.f1,
    threshold_best: r.bestT,
    steps: result.steps,
    seconds: Math.round(result.seconds * 10) / 10,
    backend: backend.description,
    f1_at: f1At,
    images: r.perImage.map((m, k) => ({ file: setup.imageFiles[k]!, ...scoresOf(m) })),
    ...(records.length ? { checkpoints: records } : {}),
    ...(others.length ? { shared_cpu: others } : {}),
  };
}

/** The mean and the minimum over runs of each score, and of F1 at each checkpoint all runs reached. */
function overSeeds(runs: EvalRecord[]) {
  const stat = (f: (r: EvalRecord) => number) => {
    const v = runs.map(f);
    return { mean: v.reduce((s, x) => s + x, 0) / v.length, min: Math.min(...v) };
  };
  const at = Object.keys(runs[0]!.f1_at).filter((t) => runs.every((r) => t in r.f1_at));
  return {
    f1: stat((r) => r.f1),
    precision: stat((r) => r.precision),
    recall: stat((r) => r.recall),
    ap: stat((r) => r.ap),
    steps: stat((r) => r.steps),
    f1_at: Object.fromEntries(at.map((t) => [t, stat((r) => r.f1_at[t]!)])),
    images: runs[0]!.images.map((img, k) => ({ file: img.file, f1: stat((r) => r.images[k]!.f1) })),
  };
}

function printRun(print: (m: string) => void, out: EvalRecord): void {
  const f = (x: number) => x.toFixed(3);
  print(
    `seed ${out.seed}: F1 ${f(out.f1)}  precision ${f(out.precision)}  recall ${f(out.recall)}  AP ${f(out.ap)}` +
      `  (${out.steps} steps, ${out.seconds} s)`,
  );
  for (const img of out.images)
    print(`  ${img.file}: F1 ${f(img.f1)}  precision ${f(img.precision)}  recall ${f(img.recall)}  AP ${f(img.ap)}`);
  const at = Object.entries(out.f1_at);
  if (at.length) print(`  F1 at ${at.map(([t, v]) => `${t} s ${f(v)}`).join(', ')}`);
  const cut = { separation: out.separation, threshold: out.threshold, seedThreshold: out.seed_threshold };
  print(`  instances: ${describeInstances({ ...cut, seedMinSize: out.seed_min_size })} (chosen from the outlines)`);
  print(`  oracle: best F1 ${f(out.f1_best)} at threshold ${out.threshold_best} (uses the ground truth)`);
  if (out.shared_cpu) print(`  shared the CPU with ${out.shared_cpu.join(', ')}: its timings are not comparable`);
}

export async function evalCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, {
    images: { kind: 'list' },
    labels: { kind: 'list' },
    'scribble-fraction': { kind: 'number', default: 0.2 },
    ...TRAINING_FLAGS,
    seeds: { kind: 'list' },
    checkpoints: { kind: 'list' },
    passes: INFERENCE_FLAGS.passes!,
    'mc-dropout': INFERENCE_FLAGS['mc-dropout']!,
    json: { kind: 'boolean', default: false },
    init: { kind: 'string', default: 'generic' },
    separation: { kind: 'string', default: 'distance' },
  });
  const instance = separationOption(a.separation as string);
  const { images: imageFiles, labels: labelFiles } = checkPairs(a.images as string[], a.labels as string[]);
  const fraction = a['scribble-fraction'] as number;
  if (!(fraction > 0 && fraction <= 1)) throw new UsageError('--scribble-fraction must be in (0, 1]');
  if (a.seconds !== undefined && a.steps !== undefined) throw new UsageError('give --seconds or --steps, not both');
  const budget = budgetOf(a),
    stepSize = stepSizeOf(a);
  const seeds = ((a.seeds as string[] | undefined) ?? [String(a.seed)]).flatMap((s) => s.split(',')).map(Number);
  if (seeds.some((s) => !Number.isInteger(s) || s < 0)) throw new UsageError('--seeds takes integers >= 0');
  const asked = (a.checkpoints as string[] | undefined)?.map(Number);
  if (asked?.some((c) => !(c > 0))) throw new UsageError('--checkpoints takes positive seconds');
  const checkpoints = (asked ?? ('seconds' in budget ? DEFAULT_CHECKPOINTS : [])).filter(
    (c) => !('seconds' in budget) || c < budget.seconds,
  );

  const timed = startTimedRun('eval', log);
  const backend = await initBackend();
  log(`backend: ${backend.description}`);
  const images = await loadImages(imageFiles);
  const parent = () =>
    startingModel(a.init as string, images[0]!.raw.channels, { depth: a.depth as number, base: a.base as number });
  const truth: LabelImage[] = [];
  for (const [k, img] of images.entries())
    truth.push(await loadInstanceLabels(labelFiles[k]!, img.raw.width, img.raw.height));
  const setup: EvalSetup = {
    imageFiles,
    images,
    truth,
    fraction,
    budget,
    stepSize,
    checkpoints,
    inference: { passes: a.passes as number, dropout: a['mc-dropout'] as boolean },
    instance,
    parent,
    backend,
    a,
    timed,
  };
  const runs: EvalRecord[] = [];
  for (const seed of seeds) runs.push(await evaluateSeed(setup, seed));
  const print = a.json ? log : (m: string) => process.stdout.write(`${m}\n`);
  for (const run of runs) printRun(print, run);
  const first = runs[0]!;
  print(`backend ${first.backend}`);
  if (runs.length === 1) {
    if (a.json) process.stdout.write(`${JSON.stringify(first)}\n`);
    return 0;
  }
  const over = overSeeds(runs);
  const f = (x: { mean: number; min: number }) => `${x.mean.toFixed(3)} (min ${x.min.toFixed(3)})`;
  print(`over seeds ${seeds.join(', ')}: F1 ${f(over.f1)}  precision ${f(over.precision)}  recall ${f(over.recall)}`);
  for (const [t, v] of Object.entries(over.f1_at)) print(`  F1 at ${t} s: ${f(v)}`);
  for (const img of over.images) print(`  ${img.file}: F1 ${f(img.f1)}`);
  // One object: the runs, their mean and minimum; f1 is the mean.
  if (a.json) process.stdout.write(`${JSON.stringify({ f1: over.f1.mean, seeds, mean: over, runs })}\n`);
  return 0;
}
