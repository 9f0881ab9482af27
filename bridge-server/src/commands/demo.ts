import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  compositeRgb,
  drawOutlines,
  encodePng,
  heatRgb,
  keepLabels,
  labelOutlines,
  matchInstances,
  planesOf,
  polygonsToRois,
  readOmeZarrImage,
  readOmeZarrLabels,
  sideBySide,
  synthesizeScribbles,
  syntheticCells,
  TRAINING_DEFAULTS,
  writeOmeZarrImage,
  writeOmeZarrLabels,
  writeRoiZip,
} from '@impartial/shared';
import { FileSystemStore } from '@impartial/shared/node';
import { parseArgs } from '../cli/args.js';
import { TRAINING_FLAGS } from '../cli/flags.js';
import { log } from '../cli/progress.js';
import { inferCommand } from './infer.js';
import { trainCommand } from './train.js';

export const DEMO_HELP = `impartial demo [--out DIR] [--seconds N] [--size N] [--channels N]

The whole loop on built-in synthetic data: makes a multiplexed image with ground truth, outlines
20% of its cells the way a person would in Fiji (an ImageJ ROI zip), trains from those outlines,
predicts probability, entropy and instances for the whole image, and scores them against the
ground truth. Outputs land in DIR (default ./impartial-demo).`;

export async function demoCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, {
    out: { kind: 'string', default: 'impartial-demo' },
    seconds: { kind: 'number', default: TRAINING_DEFAULTS.seconds },
    size: { kind: 'number', default: 512 },
    channels: { kind: 'number', default: 2 },
    seed: TRAINING_FLAGS.seed!,
  });
  const dir = a.out as string;
  await mkdir(dir, { recursive: true });
  const size = a.size as number;
  const sample = syntheticCells({
    width: size,
    height: size,
    channels: a.channels as number,
    seed: a.seed as number,
  });
  const imageDir = path.join(dir, 'demo.ome.zarr');
  const store = new FileSystemStore(imageDir);
  const levels = await writeOmeZarrImage(store, {
    width: size,
    height: size,
    planes: planesOf(sample.image),
    name: 'demo',
    channels: sample.image.channelNames!.map((name) => ({ name })),
  });
  await writeOmeZarrLabels(store, 'truth', sample.labels, levels);
  const chosen = synthesizeScribbles(sample.labels, { fraction: 0.2, seed: a.seed as number }).chosenCells;
  const outlinesFile = path.join(dir, 'demo.outlines.zip');
  await writeFile(outlinesFile, writeRoiZip(polygonsToRois(labelOutlines(keepLabels(sample.labels, chosen)))));
  log(
    `demo image ${size}x${size}x${sample.image.channels} at ${imageDir}; ` +
      `${chosen.length} of ${new Set(sample.labels.data).size - 1} cells outlined in ${outlinesFile}`,
  );
  const modelDir = path.join(dir, 'model');
  await trainCommand([
    '--images',
    imageDir,
    '--labels',
    outlinesFile,
    '--seconds',
    String(a.seconds),
    '--out',
    modelDir,
  ]);
  const predDir = path.join(dir, 'prediction');
  await inferCommand(['--model', modelDir, '--out', predDir, imageDir]);
  const predicted = await readOmeZarrLabels(new FileSystemStore(path.join(predDir, 'demo.ome.zarr')), 'prediction');
  const s = matchInstances(sample.labels, predicted);
  const entropy = await readOmeZarrImage(new FileSystemStore(path.join(predDir, 'demo.entropy.ome.zarr')));
  const composite = compositeRgb(sample.image);
  const withCells = composite.slice();
  drawOutlines(withCells, predicted, [255, 255, 255]);
  const panels = sideBySide(size, [
    { width: size, rgb: composite },
    { width: size, rgb: withCells },
    { width: size, rgb: heatRgb({ width: size, height: size, data: entropy.data }, Math.LN2) },
  ]);
  const overlay = path.join(dir, 'overlay.png');
  await writeFile(overlay, encodePng(panels.width, size, panels.rgb));
  const manifest = JSON.parse(await readFile(path.join(modelDir, 'model.json'), 'utf8')) as {
    lineage: { steps: number };
  };
  process.stdout.write(
    `demo: F1 ${s.f1.toFixed(3)} (precision ${s.precision.toFixed(3)}, recall ${s.recall.toFixed(3)}, ` +
      `AP ${s.meanAP.toFixed(3)}) after ${manifest.lineage.steps} steps; outputs in ${predDir}; ` +
      `look at ${overlay} (image | predicted cells | entropy) and ${path.join(modelDir, 'loss.svg')}\n`,
  );
  return 0;
}
