import type { DrawEntry, LabelImage, MultiChannelImage } from '@impartial/shared';
import { rasterizeDrawings } from '@impartial/shared';
import type { DataFiles } from '../store/files.js';
import { type ImageRef, modelChannels, readNormalizedRegion } from './region.js';

/** Images up to this size train whole; larger ones train on blocks around their strokes. */
const WHOLE_IMAGE_PIXELS = 2048 * 2048;
const BLOCK = 1024;
const MARGIN = 96;

/**
 * Scribble raster in the engine's terms: class 1 = cell, 2 = background; other classes are not used
 * for training yet.
 */
function engineScribbles(raster: LabelImage): LabelImage {
  const data = raster.data.map((v) => (v === 1 || v === 2 ? v : 0));
  return { width: raster.width, height: raster.height, data };
}

export type TrainCrop = { image: MultiChannelImage; scribbles: LabelImage };
type CropRect = [number, number, number, number];

/** Where an image trains: whole, or a block (plus margin) around every 1024-block with strokes. */
function cropRects(image: ImageRef, raster: ReturnType<typeof rasterizeDrawings>): CropRect[] {
  if (image.width * image.height <= WHOLE_IMAGE_PIXELS) return [[0, 0, image.width, image.height]];
  const blocks = new Set(
    raster
      .tileCoordinates()
      .map(([tx, ty]) => `${Math.floor((tx * raster.tile) / BLOCK)},${Math.floor((ty * raster.tile) / BLOCK)}`),
  );
  return [...blocks].map((key) => {
    const [bx, by] = key.split(',').map(Number) as [number, number];
    const x0 = Math.max(0, bx * BLOCK - MARGIN),
      y0 = Math.max(0, by * BLOCK - MARGIN);
    const x1 = Math.min(image.width, (bx + 1) * BLOCK + MARGIN),
      y1 = Math.min(image.height, (by + 1) * BLOCK + MARGIN);
    return [x0, y0, x1 - x0, y1 - y0];
  });
}

/**
 * Training crops of one image and its drawings. `pixels` keeps the crops' normalised pixels by
 * rectangle: a live training reads each region once, however often its strokes change.
 */
export async function cropsOf(
  image: ImageRef,
  drawings: readonly DrawEntry[],
  files: DataFiles,
  pixels = new Map<string, Float32Array>(),
): Promise<TrainCrop[]> {
  const raster = rasterizeDrawings(drawings, image.width, image.height);
  const crops: TrainCrop[] = [];
  const zarr = await files.zarr(image.dir);
  for (const [x, y, w, h] of cropRects(image, raster)) {
    const key = `${x},${y},${w},${h}`;
    const data = pixels.get(key) ?? (await readNormalizedRegion(image, x, y, w, h, zarr));
    pixels.set(key, data);
    crops.push({
      image: { width: w, height: h, channels: modelChannels(image), data },
      scribbles: engineScribbles(raster.region(x, y, w, h)),
    });
  }
  return crops;
}
