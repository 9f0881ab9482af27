import { compositeRgb, drawOutlines, encodePng, openArray, readRegion, sideBySide } from '@impartial/shared';
import type { Store, StoredImage } from '../store/store.js';

/** Side of the square a published model's cover and sample tensor are cut from (level 0, the centre). */
export const COVER_SIDE = 256;

export interface CoverAndSample {
  /** The image beside it with the model's cells outlined: 2:1, as bioimage.io asks of covers. */
  png: Uint8Array;
  /** The raw pixels of that square, (1, C, side, side) float32: the test input of an exported package. */
  sample: { shape: number[]; data: Float32Array };
}

/** Cuts the cover and sample from the first image in `images` the model has a complete prediction of. */
export async function coverAndSample(
  store: Store,
  images: StoredImage[],
  model: string,
): Promise<CoverAndSample | null> {
  let image: StoredImage | undefined;
  for (const i of images) {
    if ((await store.predictions.find(i.id, model))?.status !== 'complete') continue;
    image = i;
    break;
  }
  if (!image) return null;
  const side = Math.min(COVER_SIDE, image.width, image.height);
  const x0 = Math.floor((image.width - side) / 2),
    y0 = Math.floor((image.height - side) / 2);
  const pixels = await openArray(await store.files.zarr(image.dir), '0');
  const data = new Float32Array(image.channels * side * side);
  for (let c = 0; c < image.channels; c++)
    data.set(Float32Array.from(await readRegion(pixels, x0, y0, side, side, c)), c * side * side);
  const zarr = await store.files.zarr(store.layout.prediction(image.id, model));
  const labels = Int32Array.from(await readRegion(await openArray(zarr, 'labels/instances/0'), x0, y0, side, side));
  const raw = compositeRgb({ width: side, height: side, channels: image.channels, data });
  const outlined = raw.slice();
  drawOutlines(outlined, { width: side, height: side, data: labels }, [255, 220, 0]);
  const cover = sideBySide(side, [
    { width: side, rgb: raw },
    { width: side, rgb: outlined },
  ]);
  return {
    png: encodePng(cover.width, side, cover.rgb),
    sample: { shape: [1, image.channels, side, side], data },
  };
}
