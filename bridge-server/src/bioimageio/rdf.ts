import type { UNetConfig } from '@impartial/shared';
import { SCALE_RANGE } from './preprocessing.js';

/*
 * The rdf.yaml of an exported model (bioimage.io model description, format 0.5): its metadata,
 * tensors (with the engine's normalisation declared as preprocessing) and weights.
 */

export const FORMAT_VERSION = '0.5.7';
export const FILES = {
  onnx: 'weights.onnx',
  tfjs: 'impartial_tfjs.zip',
  testInput: 'test_input.npy',
  testOutput: 'test_output.npy',
  documentation: 'README.md',
  cover: 'cover.png',
} as const;

/** What ImPartial's method is cited as in every package (the user's own citation comes first). */
export const METHOD_CITATIONS = [
  {
    text:
      'Martinez N, Sapiro G, Tannenbaum A, Hollmann TJ, Nadeem S. ' +
      'ImPartial: Partial Annotations for Cell Instance Segmentation. bioRxiv (2021)',
    doi: '10.1101/2021.01.20.427458',
  },
];

export interface PackageMeta {
  name: string;
  description: string;
  authors: Array<{ name: string; orcid?: string; affiliation?: string }>;
  license?: string;
  cite: Array<{ text: string; doi?: string; url?: string }>;
  tags: string[];
  channels: Array<{ name: string; description: string }>;
  /** The catalogue entry (and its version) this one was fine-tuned from. */
  parent?: { id: string; version?: number };
  /** The catalogue version, when published. */
  version?: number;
  training: { images?: number; strokes?: number; steps: number; seconds: number; metrics: Record<string, number> };
  lineageAuthors: string[];
  created: string;
}

export interface PackageFiles {
  sha256: Record<keyof typeof FILES, string | undefined>;
  producerVersion: string;
  tensorflowVersion: string;
  opset: number;
  hasCover: boolean;
}

/** Axis and channel names the spec calls identifiers: letters, digits and underscores. */
export const identifier = (s: string, fallback: string) =>
  s.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '') || fallback;

const channelText = (c: { name: string; description: string }) =>
  c.description ? `${c.name} (${c.description})` : c.name;

export function buildRdf(meta: PackageMeta, config: UNetConfig, f: PackageFiles): Record<string, unknown> {
  const step = 2 ** config.depth;
  const channelNames = meta.channels.map((c, i) => identifier(c.name, `channel${i}`));
  const weightAuthors = meta.lineageAuthors.map((name) => ({ name }));
  return {
    format_version: FORMAT_VERSION,
    type: 'model',
    name: meta.name,
    description: meta.description,
    authors: meta.authors.map((a) => ({
      name: a.name,
      ...(a.affiliation ? { affiliation: a.affiliation } : {}),
      ...(a.orcid ? { orcid: a.orcid } : {}),
    })),
    cite: [...meta.cite, ...METHOD_CITATIONS],
    ...(meta.license ? { license: meta.license } : {}),
    tags: [...new Set([...meta.tags, 'impartial', 'cell-segmentation', '2d', 'fluorescence-light-microscopy', 'unet'])],
    ...(meta.version ? { version: `${meta.version}.0.0` } : {}),
    ...(f.hasCover ? { covers: [FILES.cover] } : {}),
    documentation: FILES.documentation,
    ...(meta.parent
      ? { parent: { id: meta.parent.id, ...(meta.parent.version ? { version: `${meta.parent.version}.0.0` } : {}) } }
      : {}),
    timestamp: meta.created,
    packaged_by: [{ name: `ImPartial bridge ${f.producerVersion}` }],
    inputs: [
      {
        id: 'raw',
        description: `${config.inChannels} channel(s): ${meta.channels.map(channelText).join(', ')}`,
        axes: [
          { type: 'batch' },
          { type: 'channel', channel_names: channelNames },
          { type: 'space', id: 'y', size: { min: step, step } },
          { type: 'space', id: 'x', size: { min: step, step } },
        ],
        test_tensor: { source: FILES.testInput, sha256: f.sha256.testInput },
        data: { type: 'float32' },
        preprocessing: [
          {
            id: 'scale_range',
            kwargs: SCALE_RANGE,
          },
        ],
      },
    ],
    outputs: [
      {
        id: 'probability',
        description: 'probability that a pixel belongs to a cell (the mixture of the foreground components)',
        axes: [
          { type: 'batch' },
          { type: 'channel', channel_names: ['cell'] },
          { type: 'space', id: 'y', size: { tensor_id: 'raw', axis_id: 'y' } },
          { type: 'space', id: 'x', size: { tensor_id: 'raw', axis_id: 'x' } },
        ],
        test_tensor: { source: FILES.testOutput, sha256: f.sha256.testOutput },
        data: { type: 'float32', range: [0, 1] },
      },
    ],
    weights: {
      onnx: {
        source: FILES.onnx,
        sha256: f.sha256.onnx,
        opset_version: f.opset,
        authors: weightAuthors,
        comment: 'written by the ImPartial bridge from the trained U-Net; deterministic pass (no MC dropout)',
      },
      tensorflow_js: {
        source: FILES.tfjs,
        sha256: f.sha256.tfjs,
        tensorflow_version: f.tensorflowVersion,
        parent: 'onnx',
        authors: weightAuthors,
        comment:
          'the ImPartial U-Net as trained (model.json: config, lineage and a TF.js weights manifest; weights.bin); ' +
          'loads with @impartial/shared and imports into an ImPartial bridge',
      },
    },
    config: {
      impartial: {
        unet: config,
        lineage_authors: meta.lineageAuthors,
        training: meta.training,
      },
    },
  };
}
