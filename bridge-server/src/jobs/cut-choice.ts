import {
  chooseInstanceParameters,
  cropImage,
  type FloatImage,
  type ImpartialModel,
  type LabelImage,
  labelledBox,
  type MultiChannelImage,
  outlinedCells,
  predict,
} from '@impartial/shared';
import type { TrainCrop } from './crops.js';

/** Pixels predicted to choose the cut: at most some 15 s of inference on a CPU, however much was drawn. */
export const CUT_CHOICE_PIXELS = 4_000_000;
/** Context kept around the outlined cells: more than the net's receptive field at the default depth. */
const CONTEXT = 64;

/** The cut a model's lineage keeps. */
export type ChosenCut = NonNullable<ImpartialModel['lineage']['instances']>;

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
    const region = aroundCells(crop.image, outlinedCells(crop.scribbles));
    if (!region) continue;
    const size = region.image.width * region.image.height;
    if (pixels + size > CUT_CHOICE_PIXELS) continue;
    pixels += size;
    cells += region.count;
    probabilities.push((await predict(model.config, model.weights, region.image)).probability);
    outlined.push(region.cells);
  }
  if (cells === 0) return null;
  const separation = 'distance';
  const cut = { separation, ...chooseInstanceParameters(probabilities, outlined, { separation }) } as const;
  log(
    `instance cut chosen from ${cells} outlined cell(s), ${pixels} px predicted: ${separation}, ` +
      `threshold ${cut.threshold}, seed level ${cut.seedThreshold.toFixed(3)}`,
  );
  return cut;
}

/** The part of a crop that holds its outlined cells, with CONTEXT px around them; null without any. */
function aroundCells(
  image: MultiChannelImage,
  cells: LabelImage,
): { image: MultiChannelImage; cells: LabelImage; count: number } | null {
  const box = labelledBox(cells, CONTEXT);
  if (!box) return null;
  const labels = cropImage(cells, box);
  return {
    image: cropImage(image, box),
    cells: labels,
    count: new Set(labels.data.filter((v) => v > 0)).size,
  };
}
