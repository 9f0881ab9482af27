import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { chooseInstanceParameters, predict } from '@impartial/shared';
import { initBackend, loadModelDir, saveModelDir } from '@impartial/shared/node';
import { describeInstances, parseArgs, separationOption, UsageError } from '../cli/args.js';
import { checkPairs, type LabelKind, loadImages, loadUserScribbles } from '../cli/data.js';
import { budgetOf, stepSizeOf, TRAINING_FLAGS, TRAINING_HELP } from '../cli/flags.js';
import { lossCurveSvg } from '../cli/loss-plot.js';
import { log } from '../cli/progress.js';
import { startTimedRun } from '../cli/timed-runs.js';
import { startingModel, trainWithProgress } from '../cli/training.js';

export const TRAIN_HELP = `impartial train --images FILE... --labels ZIP|TIFF... --out MODEL_DIR [options]

Trains from what a person drew: whole-cell outlines (an ImageJ ROI zip, or an instance label
TIFF) become foreground skeleton + inner ring and background outline scribbles; a TIFF holding
only 0/1/2 is read as a scribble raster (1 = cell, 2 = background). The instance cut saved with
the model is the one that best reproduces the outlined cells (in a raster: cells closed off by
background strokes).

${TRAINING_HELP}
  --from MODEL_DIR          fine-tune an earlier model (its config is kept)
  --init generic|scratch    without --from: start from the shipped generic model for the channel
                            count (default; other counts: the 6-channel one, adapted) or random weights
  --labels-kind auto|outlines|scribbles
  --separation components|seeded|distance   how instances are cut (saved with the model; default distance)`;

export async function trainCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, {
    images: { kind: 'list' },
    labels: { kind: 'list' },
    out: { kind: 'string' },
    from: { kind: 'string' },
    ...TRAINING_FLAGS,
    'labels-kind': { kind: 'string', default: 'auto' },
    init: { kind: 'string', default: 'generic' },
    separation: { kind: 'string', default: 'distance' },
  });
  const instance = separationOption(a.separation as string);
  const { images: imageFiles, labels: labelFiles } = checkPairs(a.images as string[], a.labels as string[]);
  const out = a.out as string | undefined;
  if (!out) throw new UsageError('--out MODEL_DIR is required');
  const kind = a['labels-kind'] as LabelKind;
  if (!['auto', 'outlines', 'scribbles'].includes(kind))
    throw new UsageError('--labels-kind must be auto, outlines or scribbles');
  const budget = budgetOf(a),
    stepSize = stepSizeOf(a);

  startTimedRun('train', log);
  const backend = await initBackend();
  log(`backend: ${backend.description}`);
  const images = await loadImages(imageFiles);
  const parent = a.from
    ? await loadModelDir(a.from as string)
    : await startingModel(a.init as string, images[0]!.raw.channels, {
        depth: a.depth as number,
        base: a.base as number,
      });
  if (parent && parent.config.inChannels !== images[0]!.raw.channels) {
    throw new UsageError(
      `${a.from} reads ${parent.config.inChannels} channels but the images have ${images[0]!.raw.channels}`,
    );
  }
  const user = [];
  for (const [k, img] of images.entries())
    user.push(await loadUserScribbles(labelFiles[k]!, img.raw.width, img.raw.height, kind));
  const { model, result } = await trainWithProgress({
    images: images.map((i) => i.normalized),
    scribbles: user.map((u) => u.scribbles),
    channelNames: images[0]!.raw.channelNames?.slice() ?? [],
    ...budget,
    seed: a.seed as number,
    batchSize: a.batch as number,
    depth: a.depth as number,
    base: a.base as number,
    dropout: a.dropout as number,
    ...stepSize,
    backend,
    ...(parent ? { parent } : {}),
  });
  // Pick the instance cut that best reproduces the outlines the person drew (defaults without outlines).
  const withOutlines = user.map((u, k) => ({ u, k })).filter(({ u }) => u.outlined);
  const probs = [];
  for (const { k } of withOutlines)
    probs.push((await predict(model.config, model.weights, images[k]!.normalized)).probability);
  const instances = {
    ...instance,
    ...chooseInstanceParameters(
      probs,
      withOutlines.map(({ u }) => u.outlined!),
      instance,
    ),
  };
  model.lineage.instances = instances;
  await saveModelDir(model, out);
  await writeFile(
    path.join(out, 'loss.svg'),
    lossCurveSvg(
      result.losses,
      `training loss, ${result.steps} steps in ${result.seconds.toFixed(0)} s (${backend.description})`,
    ),
  );
  process.stdout.write(
    `saved model ${model.lineage.id} to ${out}, loss curve in ${path.join(out, 'loss.svg')} ` +
      `(${result.steps} steps, ${result.seconds.toFixed(1)} s, instances: ${describeInstances(instances)})\n`,
  );
  return 0;
}
