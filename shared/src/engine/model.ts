import type { Separation } from '../image/instances.js';
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
  instances?: { separation: Separation; threshold: number; seedThreshold: number; seedMinSize: number };
  metrics?: Record<string, number>;
  /** Everyone who trained along the chain, oldest first: the credit a fine-tune carries on. */
  authors?: string[];
  /** The nearest catalogue entry this version descends from, kept through fine-tunes. */
  catalogue?: string;
}

export interface ImpartialModel {
  config: UNetConfig;
  weights: UNetWeights;
  lineage: ModelLineage;
}

/** What a training (or a copy) adds to a model's history. */
export interface LineageStep {
  id: string;
  author: string;
  /** The channels the net reads; a copy or fine-tune keeps its parent's when not given. */
  channels?: string[];
  /** Steps and seconds of this training alone (0 for a copy). */
  steps: number;
  seconds: number;
  strokesHash?: string;
  backend?: string;
  metrics?: Record<string, number>;
  created?: string;
  /** A copy of a catalogue entry: the entry, which its descendants keep. */
  catalogue?: string;
}

/** The authors up a chain plus this step's, once each; a copy (no steps) adds no author. */
function authorsOf(parent: ModelLineage | null, step: LineageStep): string[] {
  const before = parent ? (parent.authors ?? [parent.author]) : [];
  return step.steps > 0 || !parent ? [...new Set([...before, step.author])] : before;
}

/**
 * The lineage of a new version: its parent (if any), steps and seconds added up along the chain,
 * and the parent's instance cut until a new one is chosen. Every model version is made through this.
 */
export function childLineage(parent: ModelLineage | null, step: LineageStep): ModelLineage {
  const channels = step.channels ?? parent?.channels;
  if (!channels) throw new Error('a model without a parent needs its channel names');
  return {
    id: step.id,
    parent: parent?.id ?? null,
    created: step.created ?? new Date().toISOString(),
    author: step.author,
    channels,
    steps: (parent?.steps ?? 0) + step.steps,
    trainSeconds: (parent?.trainSeconds ?? 0) + step.seconds,
    ...(step.strokesHash !== undefined ? { strokesHash: step.strokesHash } : {}),
    ...(step.backend !== undefined ? { backend: step.backend } : {}),
    ...(parent?.instances ? { instances: parent.instances } : {}),
    ...(step.metrics ? { metrics: step.metrics } : {}),
    authors: authorsOf(parent, step),
    ...((step.catalogue ?? parent?.catalogue) ? { catalogue: step.catalogue ?? parent?.catalogue } : {}),
  };
}
