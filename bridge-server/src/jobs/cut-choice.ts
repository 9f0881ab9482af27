import {
  chooseInstanceParameters,
  type FloatImage,
  type ImpartialModel,
  type InstanceOptions,
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
      `threshold ${cut.threshold}, ` +
      `seed level ${cut.seedThreshold.toFixed(3)}`,
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
  const [x0, y0, x1, y1] = box;
  const { width, height } = cells;
  const w = x1 - x0,
    h = y1 - y0,
    n = width * height;
  const data = new Float32Array(w * h * image.channels),
    labels = new Int32Array(w * h);
  for (let y = 0; y < h; y++) {
    const from = (y + y0) * width + x0;
    labels.set(cells.data.subarray(from, from + w), y * w);
    for (let c = 0; c < image.channels; c++)
      data.set(image.data.subarray(c * n + from, c * n + from + w), c * w * h + y * w);
  }
  return {
    image: { ...image, width: w, height: h, data },
    cells: { width: w, height: h, data: labels },
    count: new Set(labels.filter((v) => v > 0)).size,
  };
}
