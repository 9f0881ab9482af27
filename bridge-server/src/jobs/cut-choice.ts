import {
  chooseInstanceParameters,
  type FloatImage,
  type ImpartialModel,
  type InstanceOptions,
  type LabelImage,
  outlinedCells,
  predict,
} from '@impartial/shared';
import type { TrainCrop } from './crops.js';

/** Pixels of crops predicted to choose the cut: a few seconds of inference on a CPU, however much was drawn. */
export const CUT_CHOICE_PIXELS = 2_000_000;

export type ChosenCut = Pick<InstanceOptions, 'separation' | 'threshold' | 'seedThreshold' | 'seedMinSize'>;

/**
 * The instance cut a trained model is saved with: the watershed on the cells' cores, at the threshold
 * and seed depth whose instances best reproduce the cells the person outlined (as the CLI's train
 * chooses it). Null when nothing was outlined (a model then keeps the default cut).
 */
export async function chooseCutFromOutlines(
  model: Pick<ImpartialModel, 'config' | 'weights'>,
  crops: readonly TrainCrop[],
  log: (line: string) => void,
): Promise<ChosenCut | null> {
  const probabilities: FloatImage[] = [],
    outlined: LabelImage[] = [];
  let pixels = 0,
    cells = 0;
  for (const crop of crops) {
    const cellsHere = outlinedCells(crop.scribbles);
    const count = new Set(cellsHere.data.filter((v) => v > 0)).size;
    const size = crop.image.width * crop.image.height;
    if (count === 0 || pixels + size > CUT_CHOICE_PIXELS) continue;
    pixels += size;
    cells += count;
    probabilities.push((await predict(model.config, model.weights, crop.image)).probability);
    outlined.push(cellsHere);
  }
  if (cells === 0) return null;
  const separation = 'distance';
  const cut = { separation, ...chooseInstanceParameters(probabilities, outlined, { separation }) } as const;
  log(
    `instance cut chosen from ${cells} outlined cell(s): ${separation}, threshold ${cut.threshold}, ` +
      `seed level ${cut.seedThreshold.toFixed(3)}`,
  );
  return cut;
}
