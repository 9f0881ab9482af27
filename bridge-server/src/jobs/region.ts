import { openArray, readRegion, type ReadableStore } from '@impartial/shared';
import { FileSystemStore } from '@impartial/shared/node';

/** Where a stored image is and how it is normalised (what a worker needs to read it). */
export interface ImageRef { id: string; dir: string; width: number; height: number; channels: number; norm: { low: number; high: number } }

/** Level-0 region of a stored image, normalised, planar (c, y, x), clipped to the image by the caller. */
export async function readNormalizedRegion(image: ImageRef, x: number, y: number, width: number, height: number, store: ReadableStore = new FileSystemStore(image.dir)): Promise<Float32Array> {
  const arr = await openArray(store, '0');
  const n = width * height;
  const out = new Float32Array(image.channels * n);
  const scale = 1 / Math.max(image.norm.high - image.norm.low, 1e-8);
  for (let c = 0; c < image.channels; c++) {
    const plane = await readRegion(arr, x, y, width, height, c);
    for (let i = 0; i < n; i++) out[c * n + i] = (plane[i]! - image.norm.low) * scale;
  }
  return out;
}
