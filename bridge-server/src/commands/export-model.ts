import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  CatalogueAuthorSchema,
  CitationSchema,
  MODEL_JSON,
  MODEL_NAME_PATTERN,
  type ModelLineage,
} from '@impartial/shared';
import { initBackend, readImageFile, writeFileAtomic } from '@impartial/shared/node';
import { buildPackage, licenceIds, type PackageMeta } from '../bioimageio/index.js';
import { parseArgs, UsageError } from '../cli/args.js';
import { log } from '../cli/progress.js';
import { COVER_SIDE } from '../imaging/model-cover.js';
import { BRIDGE_VERSION } from '../version.js';

export const EXPORT_MODEL_HELP = `impartial export-model --model DIR --format bioimageio --out PACKAGE.zip [options]

Writes a bioimage.io model package (rdf.yaml format 0.5, ONNX weights opset 17 with the TF.js
weights as their child, a test input and output as .npy, README.md). The ONNX weights are run with
onnxruntime on the test input and must give the engine's probability to 1e-4, and rdf.yaml must
pass the bioimage.io schema, or nothing is written.

  --name NAME            5-128 letters, digits, spaces, _ + - ( ) (default: ImPartial <N>ch <model id>)
  --description TEXT     (default: what the model reads)
  --author NAME[;ORCID[;AFFILIATION]]   repeatable list (default: the model's lineage authors)
  --license SPDX         e.g. CC-BY-4.0 or MIT
  --cite TEXT;DOI_OR_URL how to cite this model (ImPartial's paper is always cited too)
  --tags T...            tags
  --channel NAME;WHAT... what each input channel should show, in order (default: its name)
  --image FILE           a TIFF or OME-Zarr image whose centre ${COVER_SIDE} px make the test input
                         (default: synthetic cells)`;

export async function exportModelCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, {
    model: { kind: 'string' },
    format: { kind: 'string', default: 'bioimageio' },
    out: { kind: 'string' },
    name: { kind: 'string' },
    description: { kind: 'string' },
    author: { kind: 'list' },
    license: { kind: 'string' },
    cite: { kind: 'list' },
    tags: { kind: 'list' },
    channel: { kind: 'list' },
    image: { kind: 'string' },
  });
  if (!a.model) throw new UsageError('--model DIR is required (a model version: model.json + weights.bin)');
  if (!a.out) throw new UsageError('--out PACKAGE.zip is required');
  if (a.format !== 'bioimageio') throw new UsageError(`--format ${a.format}: the only format is bioimageio`);
  const modelDir = a.model as string;
  const json = await readFile(path.join(modelDir, MODEL_JSON), 'utf8').catch(() => {
    throw new UsageError(`${modelDir} has no ${MODEL_JSON}: give a model version's folder`);
  });
  const { lineage, config } = JSON.parse(json) as { lineage: ModelLineage; config: { inChannels: number } };
  const name = (a.name as string | undefined) ?? `ImPartial ${config.inChannels}ch ${lineage.id}`.slice(0, 128);
  if (!MODEL_NAME_PATTERN.test(name))
    throw new UsageError(`--name "${name}": 5-128 letters, digits, spaces, _ + - ( )`);
  const license = a.license as string | undefined;
  if (license && !licenceIds().has(license)) throw new UsageError(`--license ${license} is not an SPDX licence id`);
  const authors = ((a.author as string[] | undefined) ?? []).map((s) => {
    const [authorName, orcid, affiliation] = s.split(';').map((p) => p.trim());
    const r = CatalogueAuthorSchema.safeParse({
      name: authorName,
      ...(orcid ? { orcid } : {}),
      ...(affiliation ? { affiliation } : {}),
    });
    if (!r.success) throw new UsageError(`--author "${s}": ${r.error.issues[0]!.message}`);
    return r.data;
  });
  const cite = ((a.cite as string[] | undefined) ?? []).map((s) => {
    const [text, ref] = s.split(';').map((p) => p.trim());
    const r = CitationSchema.safeParse({ text, ...(ref?.startsWith('http') ? { url: ref } : ref ? { doi: ref } : {}) });
    if (!r.success) throw new UsageError(`--cite "${s}": ${r.error.issues[0]!.message}`);
    return r.data;
  });
  const given = (a.channel as string[] | undefined) ?? [];
  if (given.length > 0 && given.length !== config.inChannels)
    throw new UsageError(`--channel: the model reads ${config.inChannels} channels, ${given.length} given`);
  const channels = lineage.channels.map((c, i) => {
    const [n, what] = (given[i] ?? c).split(';').map((p) => p.trim());
    return { name: n || c, description: what ?? '' };
  });
  const lineageAuthors = lineage.authors ?? [lineage.author];
  const meta: PackageMeta = {
    name,
    description:
      (a.description as string | undefined) ??
      `ImPartial U-Net for ${config.inChannels}-channel images (${channels.map((c) => c.name).join(', ')})`,
    authors: authors.length > 0 ? authors : lineageAuthors.map((n) => ({ name: n })),
    ...(license ? { license } : {}),
    cite,
    tags: (a.tags as string[] | undefined) ?? [],
    channels,
    training: { steps: lineage.steps, seconds: lineage.trainSeconds, metrics: lineage.metrics ?? {} },
    lineageAuthors,
    created: lineage.created,
  };
  const sample = a.image ? centreCrop(await readImageFile(a.image as string), config.inChannels) : undefined;
  // A package's test output is float32 (what ONNX runtimes compute), so the engine checks it in float32.
  process.env.IMPARTIAL_PRECISION = 'f32';
  const backend = await initBackend();
  log(`exporting ${modelDir} (backend ${backend.name}) ...`);
  const result = await buildPackage({ modelDir, meta, ...(sample ? { sample } : {}), producerVersion: BRIDGE_VERSION });
  await writeFileAtomic(a.out as string, result.zip);
  log(
    `wrote ${a.out} (${(result.zip.byteLength / 1024).toFixed(0)} KB): ONNX opset 17 + TF.js weights; ` +
      `ONNX vs engine on the test input: max |diff| ${result.maxDiff.toExponential(2)}`,
  );
  return 0;
}

/** The centre square of an image (raw values) as a (1, C, S, S) sample. */
function centreCrop(image: Awaited<ReturnType<typeof readImageFile>>, channels: number) {
  if (image.channels !== channels)
    throw new UsageError(`--image has ${image.channels} channels; the model reads ${channels}`);
  const side = Math.min(COVER_SIDE, image.width, image.height);
  const x0 = Math.floor((image.width - side) / 2),
    y0 = Math.floor((image.height - side) / 2);
  const n = image.width * image.height;
  const data = new Float32Array(channels * side * side);
  for (let c = 0; c < channels; c++)
    for (let y = 0; y < side; y++)
      for (let x = 0; x < side; x++)
        data[(c * side + y) * side + x] = image.data[c * n + (y0 + y) * image.width + x0 + x]!;
  return { shape: [1, channels, side, side], data };
}
