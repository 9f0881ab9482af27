import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { ImpartialModel } from './model.js';
import { convSpecs, weightsFromTensors } from './unet.js';

/** model.json: config + lineage + a standard tfjs weights manifest pointing at weights.bin. */
export const MODEL_FORMAT = 'impartial-unet';
export const MODEL_JSON = 'model.json';
export const MODEL_WEIGHTS = 'weights.bin';

const ModelFileSchema = z.object({
  format: z.literal(MODEL_FORMAT),
  formatVersion: z.literal(1),
  config: z.object({
    inChannels: z.number().int().positive(),
    depth: z.number().int().min(1).max(6),
    base: z.number().int().positive(),
    dropout: z.number().min(0).max(0.95),
    components: z.tuple([z.number().int().positive(), z.number().int().positive()]),
  }),
  lineage: z.object({
    id: z.string(),
    parent: z.string().nullable(),
    created: z.string(),
    author: z.string(),
    channels: z.array(z.string()),
    steps: z.number(),
    trainSeconds: z.number(),
    strokesHash: z.string().optional(),
    backend: z.string().optional(),
    instances: z
      .object({
        separation: z.enum(['components', 'seeded', 'distance']),
        threshold: z.number(),
        seedThreshold: z.number(),
        seedMinSize: z.number(),
      })
      .optional(),
    metrics: z.record(z.string(), z.number()).optional(),
    authors: z.array(z.string()).optional(),
    catalogue: z.string().optional(),
  }),
  weightsManifest: z.array(
    z.object({
      paths: z.array(z.string()),
      weights: z.array(z.object({ name: z.string(), shape: z.array(z.number()), dtype: z.string() }).passthrough()),
    }),
  ),
});

export type ModelFile = z.infer<typeof ModelFileSchema>;

export async function serializeModel(model: ImpartialModel): Promise<{ manifest: ModelFile; weights: ArrayBuffer }> {
  const named: Record<string, tf.Tensor> = {};
  for (const [name, v] of model.weights) named[name] = v;
  const { data, specs } = await tf.io.encodeWeights(named);
  const manifest: ModelFile = {
    format: MODEL_FORMAT,
    formatVersion: 1,
    config: model.config,
    lineage: model.lineage,
    weightsManifest: [{ paths: [MODEL_WEIGHTS], weights: specs as ModelFile['weightsManifest'][number]['weights'] }],
  };
  return { manifest, weights: data };
}

/** Parses model.json, with a clear error naming what is wrong. */
export function parseModelFile(json: unknown): ModelFile {
  const r = ModelFileSchema.safeParse(json);
  if (!r.success) {
    const first = r.error.issues[0]!;
    throw new Error(`not an ImPartial model.json: ${first.path.join('.') || '(root)'}: ${first.message}`);
  }
  return r.data;
}

/** Checks model.json against the size of weights.bin and the weights its config needs (no tensors made). */
export function checkModelFiles(manifestJson: unknown, weightsBytes: number): ModelFile {
  const manifest = parseModelFile(manifestJson);
  const specs = manifest.weightsManifest.flatMap((g) => g.weights);
  const expected = specs.reduce((s, w) => s + 4 * w.shape.reduce((a, b) => a * b, 1), 0);
  if (weightsBytes !== expected)
    throw new Error(`weights.bin has ${weightsBytes} bytes, model.json describes ${expected}`);
  const names = new Set(specs.map((w) => w.name));
  for (const s of convSpecs(manifest.config)) {
    for (const suffix of ['weight', 'bias']) {
      if (!names.has(`${s.name}.${suffix}`))
        throw new Error(`model.json lacks weight ${s.name}.${suffix} for its config`);
    }
  }
  return manifest;
}

export function deserializeModel(manifestJson: unknown, weights: ArrayBuffer): ImpartialModel {
  const manifest = checkModelFiles(manifestJson, weights.byteLength);
  const specs = manifest.weightsManifest.flatMap((g) => g.weights);
  const named = tf.io.decodeWeights(weights, specs as tf.io.WeightsManifestEntry[]);
  const weightsMap = weightsFromTensors(new Map(Object.entries(named)));
  for (const t of Object.values(named)) t.dispose();
  return { config: manifest.config, weights: weightsMap, lineage: manifest.lineage };
}

/** Loads model.json + weights.bin over HTTP (browser or Node fetch). */
export async function loadModelFromUrl(modelJsonUrl: string, init?: RequestInit): Promise<ImpartialModel> {
  const res = await fetch(modelJsonUrl, init);
  if (!res.ok) throw new Error(`GET ${modelJsonUrl}: HTTP ${res.status}`);
  const manifest = parseModelFile(await res.json());
  const weightsUrl = new URL(
    manifest.weightsManifest[0]!.paths[0]!,
    new URL(modelJsonUrl, globalThis.location?.href),
  ).toString();
  const wres = await fetch(weightsUrl, init);
  if (!wres.ok) throw new Error(`GET ${weightsUrl}: HTTP ${wres.status}`);
  return deserializeModel(manifest, await wres.arrayBuffer());
}
