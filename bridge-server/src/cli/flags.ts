import { INFERENCE_DEFAULTS, TRAINING_DEFAULTS } from '@impartial/shared';
import { type FlagSpec, UsageError } from './args.js';

/*
 * Flags every training and inference command shares, with the product's defaults (declared once,
 * in shared/src/protocol/settings.ts), and the help lines that name them.
 */

const d = TRAINING_DEFAULTS;

export const TRAINING_FLAGS: Record<string, FlagSpec> = {
  seconds: { kind: 'number' },
  steps: { kind: 'number' },
  seed: { kind: 'number', default: d.seed },
  batch: { kind: 'number', default: d.batchSize },
  depth: { kind: 'number', default: d.depth },
  base: { kind: 'number', default: d.base },
  dropout: { kind: 'number', default: d.dropout },
  lr: { kind: 'number', default: d.learningRate },
  'constant-lr': { kind: 'boolean', default: !d.decay },
};

export const TRAINING_HELP = `  --seconds N | --steps N   training budget (default ${d.seconds} s)
  --seed N --batch N --depth N --base N   seed, batch, U-Net depth and base width
                            (default ${d.seed}, ${d.batchSize}, ${d.depth}, ${d.base})
  --dropout R               dropout of the model trained (and of --mc-dropout inference)
                            (default ${d.dropout}; ImPartial's 0.5 learns slower)
  --lr R                    Adam's step size (default ${d.learningRate}), falling linearly to a twentieth
                            over the budget
  --constant-lr             keep the step size constant instead`;

export const INFERENCE_FLAGS: Record<string, FlagSpec> = {
  passes: { kind: 'number', default: INFERENCE_DEFAULTS.passes },
  tile: { kind: 'number', default: INFERENCE_DEFAULTS.tile },
  'mc-dropout': { kind: 'boolean', default: false },
};

const { passes, tile } = INFERENCE_DEFAULTS;
export const INFERENCE_HELP = `  --passes T      passes averaged over mirrored views of the image (default ${passes};
                  without --mc-dropout, passes past the 4 mirrorings would repeat one and are
                  not run)
  --mc-dropout    sample dropout in every pass (Monte-Carlo, ImPartial's original) instead of
                  averaging the deterministic network's mirrored views
  --tile N        tile size in pixels (default ${tile})`;

/** The step size a command was given, and whether it decays over the budget. */
export function stepSizeOf(a: Record<string, unknown>): { learningRate: number; decay: boolean } {
  const learningRate = a.lr as number;
  if (!(learningRate > 0 && learningRate <= 1)) throw new UsageError(`--lr must be in (0, 1], not ${learningRate}`);
  return { learningRate, decay: !(a['constant-lr'] as boolean) };
}

/** The budget a command was given: steps, or seconds (the default when neither). */
export function budgetOf(a: Record<string, unknown>): { steps: number } | { seconds: number } {
  if (a.steps !== undefined) return { steps: a.steps as number };
  return { seconds: (a.seconds as number | undefined) ?? d.seconds };
}
