import { openArray, type ReadableStore, readRegion } from '@impartial/shared';
import { FileSystemStore } from '@impartial/shared/node';

/** Where a stored image is and how it is normalised (what a worker needs to read it). */
export interface ImageRef {
  id: string;
  dir: string;
  width: number;
  height: number;
  channels: number;
  norm: { low: number; high: number };
  /** The channels a model reads, in its order (all, in file order, when absent). */
  select?: number[];
}

/** A stored image as a task reads it; `select` only when the model reads other channels than all, in file order. */
export function imageRefOf(image: Omit<ImageRef, 'select'>, select?: number[]): ImageRef {
  const { id, dir, width, height, channels, norm } = image;
  return { id, dir, width, height, channels, norm, ...(select ? { select } : {}) };
}

/** How many channels a model sees of this image. */
export const modelChannels = (image: ImageRef) => image.select?.length ?? image.channels;

/** Level-0 region of a stored image, normalised, planar (c, y, x), clipped to the image by the caller. */
export async function readNormalizedRegion(
  image: ImageRef,
  x: number,
  y: number,
  width: number,
  height: number,
  store: ReadableStore = new FileSystemStore(image.dir),
): Promise<Float32Array> {
  const arr = await openArray(store, '0');
  const n = width * height;
  const select = image.select ?? Array.from({ length: image.channels }, (_, c) => c);
  const out = new Float32Array(select.length * n);
  const scale = 1 / Math.max(image.norm.high - image.norm.low, 1e-8);
  for (const [c, source] of select.entries()) {
    const plane = await readRegion(arr, x, y, width, height, source);
    for (let i = 0; i < n; i++) out[c * n + i] = (plane[i]! - image.norm.low) * scale;
  }
  return out;
}
