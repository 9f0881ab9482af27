import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  DEFAULT_INSTANCE_OPTIONS,
  type FloatImage,
  type LabelImage,
  labelOutlines,
  type MultiChannelImage,
  outlinesToGeoJson,
  planesOf,
  polygonsToRois,
  predict,
  probabilityToInstances,
  writeOmeZarrImage,
  writeOmeZarrLabels,
  writeRoiZip,
} from '@impartial/shared';
import { FileSystemStore, imageBaseName, initBackend, loadModelDir } from '@impartial/shared/node';
import { describeInstances, parseArgs, separationOption, UsageError } from '../cli/args.js';
import { loadImages } from '../cli/data.js';
import { INFERENCE_FLAGS, INFERENCE_HELP } from '../cli/flags.js';
import { log, progressBar } from '../cli/progress.js';

export const INFER_HELP = `impartial infer --model MODEL_DIR --out OUT_DIR IMAGE... [options]

For each image NAME writes OUT_DIR/NAME.ome.zarr (the image with labels/prediction),
NAME.probability.ome.zarr, NAME.entropy.ome.zarr, NAME.rois.zip (ImageJ ROI set, one polygon per
cell) and NAME.geojson.

  --threshold T   instance threshold (default: the one chosen when the model was trained)
${INFERENCE_HELP}
  --separation components|seeded|distance  (default: the one saved with the model)`;

const PREDICTION_COLORS = [{ 'label-value': 0, rgba: [0, 0, 0, 0] as [number, number, number, number] }];

/** A fresh OME-Zarr folder (an earlier output of the same name is replaced, never merged). */
async function freshStore(dir: string): Promise<FileSystemStore> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return new FileSystemStore(dir);
}

export async function writePredictionOutputs(
  outDir: string,
  name: string,
  image: MultiChannelImage,
  probability: FloatImage,
  entropy: FloatImage,
  labels: LabelImage,
): Promise<string[]> {
  const files: string[] = [];
  const imageDir = path.join(outDir, `${name}.ome.zarr`);
  const store = await freshStore(imageDir);
  const levels = await writeOmeZarrImage(store, {
    width: image.width,
    height: image.height,
    planes: planesOf(image),
    name,
    ...(image.channelNames ? { channels: image.channelNames.map((n) => ({ name: n })) } : {}),
  });
  await writeOmeZarrLabels(store, 'prediction', labels, levels, {
    colors: PREDICTION_COLORS,
    properties: [{ 'label-value': 0, class: 'background' }],
  });
  files.push(imageDir);
  for (const [suffix, map, color] of [
    ['probability', probability, 'FF00FF'],
    ['entropy', entropy, 'FFAA00'],
  ] as const) {
    const dir = path.join(outDir, `${name}.${suffix}.ome.zarr`);
    await writeOmeZarrImage(await freshStore(dir), {
      width: map.width,
      height: map.height,
      planes: [map.data],
      name: `${name} ${suffix}`,
      channels: [
        {
          name: suffix,
          color,
          window: {
            min: 0,
            max: suffix === 'entropy' ? Math.LN2 : 1,
            start: 0,
            end: suffix === 'entropy' ? Math.LN2 : 1,
          },
        },
      ],
    });
    files.push(dir);
  }
  const outlines = labelOutlines(labels);
  const roiFile = path.join(outDir, `${name}.rois.zip`);
  await writeFile(roiFile, writeRoiZip(polygonsToRois(outlines)));
  const geoFile = path.join(outDir, `${name}.geojson`);
  await writeFile(geoFile, JSON.stringify(outlinesToGeoJson(outlines)));
  files.push(roiFile, geoFile);
  return files;
}

export async function inferCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, {
    model: { kind: 'string' },
    out: { kind: 'string' },
    threshold: { kind: 'number' },
    ...INFERENCE_FLAGS,
    separation: { kind: 'string' },
  });
  if (!a.model) throw new UsageError('--model MODEL_DIR is required');
  if (!a.out) throw new UsageError('--out OUT_DIR is required');
  if (a._.length === 0) throw new UsageError('give at least one IMAGE');
  const backend = await initBackend();
  log(`backend: ${backend.description}`);
  const model = await loadModelDir(a.model as string);
  const saved = model.lineage.instances;
  const instance = {
    ...DEFAULT_INSTANCE_OPTIONS,
    ...saved,
    ...(a.separation !== undefined ? separationOption(a.separation as string) : {}),
    ...(a.threshold !== undefined ? { threshold: a.threshold as number } : {}),
  };
  const images = await loadImages(a._);
  if (images[0]!.raw.channels !== model.config.inChannels) {
    throw new UsageError(
      `the model reads ${model.config.inChannels} channels but ${images[0]!.file} has ${images[0]!.raw.channels}`,
    );
  }
  const outDir = a.out as string;
  for (const img of images) {
    const name = imageBaseName(img.file);
    const outputs = ['ome.zarr', 'probability.ome.zarr', 'entropy.ome.zarr'].map((ext) =>
      path.resolve(outDir, `${name}.${ext}`),
    );
    if (outputs.includes(path.resolve(img.file)))
      throw new UsageError(
        `writing ${name}'s outputs to ${outDir} would replace the input ${img.file}; choose another --out`,
      );
  }
  await mkdir(outDir, { recursive: true });
  for (const img of images) {
    const name = imageBaseName(img.file);
    let bar: ReturnType<typeof progressBar> | undefined;
    const { probability, entropy } = await predict(model.config, model.weights, img.normalized, {
      passes: a.passes as number,
      dropout: a['mc-dropout'] as boolean,
      tile: a.tile as number,
      onProgress: (done, total) => {
        bar ??= progressBar(name, total, ' tiles');
        bar.update(done);
      },
    });
    bar?.stop();
    const labels = probabilityToInstances(probability, instance);
    const files = await writePredictionOutputs(outDir, name, img.raw, probability, entropy, labels);
    process.stdout.write(
      `${name}: ${labels.count} cells (${describeInstances(instance)}) -> ` +
        `${files.map((f) => path.basename(f)).join(', ')}\n`,
    );
  }
  return 0;
}
