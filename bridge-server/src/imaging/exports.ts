import {
  imagejHyperstack,
  labelOutlines,
  labelTiff,
  openArray,
  outlinesToGeoJson,
  type PixelArray,
  polygonsToRois,
  readRegion,
  writeRoiZip,
  writeTiff,
} from '@impartial/shared';
import { FileSystemStore } from '@impartial/shared/node';
import { ImpartialError } from '../errors.js';
import type { Store, StoredImage } from '../store/store.js';

/*
 * Files made on request from the stored pyramids: TIFFs ImageJ opens by URL, and cell outlines
 * as an ImageJ ROI set or GeoJSON. Whole levels are read, so the level is capped in size.
 */

/** Largest level a TIFF or outline export reads at once (ask for a coarser level beyond that). */
export const MAX_EXPORT_PIXELS = 8192 * 8192;

export type PredictionPart = 'labels' | 'probability' | 'entropy';

function levelSize(image: StoredImage, level: number): [number, number] {
  if (!Number.isInteger(level) || level < 0 || level >= image.levels)
    throw new ImpartialError(
      'bad-request',
      `level ${level} does not exist (image ${image.id} has levels 0-${image.levels - 1})`,
    );
  const w = Math.ceil(image.width / 2 ** level),
    h = Math.ceil(image.height / 2 ** level);
  if (w * h > MAX_EXPORT_PIXELS)
    throw new ImpartialError(
      'too-large',
      `level ${level} is ${w}x${h}; ask for a coarser level (at most ${MAX_EXPORT_PIXELS} pixels)`,
    );
  return [w, h];
}

/** The finest level an export can read whole. */
export function exportLevel(image: StoredImage): number {
  let level = 0;
  while (
    level + 1 < image.levels &&
    Math.ceil(image.width / 2 ** level) * Math.ceil(image.height / 2 ** level) > 4096 * 4096
  )
    level++;
  return level;
}

function tiffPixels(plane: PixelArray): Uint8Array | Uint16Array | Float32Array {
  return plane instanceof Uint8Array || plane instanceof Uint16Array || plane instanceof Float32Array
    ? plane
    : Float32Array.from(plane);
}

export async function imageTiff(store: Store, image: StoredImage, level: number): Promise<Uint8Array> {
  const [w, h] = levelSize(image, level);
  const arr = await openArray(await store.files.zarr(image.dir), `${level}`);
  const planes = [];
  for (let c = 0; c < image.channels; c++) planes.push(tiffPixels(await readRegion(arr, 0, 0, w, h, c)));
  return writeTiff(imagejHyperstack(planes, w, h, { unit: 'pixel' }));
}

export async function scribblesTiff(image: StoredImage, level: number): Promise<Uint8Array> {
  const [w, h] = levelSize(image, level);
  const arr = await openArray(new FileSystemStore(image.dir), `labels/scribbles/${level}`);
  return writeTiff([{ width: w, height: h, data: Uint8Array.from(await readRegion(arr, 0, 0, w, h)) }]);
}

async function predictionDir(store: Store, image: StoredImage, model: string): Promise<string> {
  if (!(await store.predictions.find(image.id, model)))
    throw new ImpartialError('not-found', `image ${image.id} has no prediction by model ${model}`);
  return store.layout.prediction(image.id, model);
}

export async function predictionTiff(
  store: Store,
  image: StoredImage,
  model: string,
  level: number,
  part: PredictionPart,
): Promise<Uint8Array> {
  const [w, h] = levelSize(image, level);
  const zarr = await store.files.zarr(await predictionDir(store, image, model));
  if (part === 'labels') {
    const data = await readRegion(await openArray(zarr, `labels/instances/${level}`), 0, 0, w, h);
    return labelTiff(w, h, data);
  }
  const data = await readRegion(await openArray(zarr, `${level}`), 0, 0, w, h, part === 'probability' ? 0 : 1);
  return writeTiff([{ width: w, height: h, data: Float32Array.from(data) }]);
}

/** Cell outlines of a prediction (level 0) as an ImageJ ROI zip or GeoJSON. */
export async function predictionOutlines(
  store: Store,
  image: StoredImage,
  model: string,
  format: 'rois' | 'geojson',
): Promise<Uint8Array | string> {
  const [w, h] = levelSize(image, 0);
  const data = await readRegion(
    await openArray(await store.files.zarr(await predictionDir(store, image, model)), 'labels/instances/0'),
    0,
    0,
    w,
    h,
  );
  const outlines = labelOutlines({ width: w, height: h, data: Int32Array.from(data) });
  return format === 'rois' ? writeRoiZip(polygonsToRois(outlines)) : JSON.stringify(outlinesToGeoJson(outlines));
}
