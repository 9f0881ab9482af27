import type { UNetConfig, UNetWeights } from './unet.js';

/** Where a model version came from; saved with its weights and never rewritten. */
export interface ModelLineage {
  id: string;
  parent: string | null;
  created: string;
  author: string;
  /** Names (or indices) of the image channels the net reads, in order. */
  channels: string[];
  steps: number;
  trainSeconds: number;
  /** Hash of the strokes or labels trained on, so a model can be matched to its annotations. */
  strokesHash?: string;
  backend?: string;
  /** How instances are cut from the probability, as chosen from the person's outlines (no ground truth). */
  instances?: { separation: 'components' | 'seeded'; threshold: number; seedThreshold: number; seedMinSize: number };
  metrics?: Record<string, number>;
}

export interface ImpartialModel {
  config: UNetConfig;
  weights: UNetWeights;
  lineage: ModelLineage;
}

export function newModelId(): string {
  const t = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `m${t}-${Math.floor(Math.random() * 0xffffff)
    .toString(16)
    .padStart(6, '0')}`;
}
