import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  newId,
  openArray,
  percentiles,
  type RegionSource,
  readRegion,
  writeOmeZarrFromSource,
} from '@impartial/shared';
import { FileSystemStore } from '@impartial/shared/node';
import type { ImageNorm, Store, StoredImage } from '../store/store.js';
import { createScribbleLabels } from '../store/strokes/scribble-writer.js';

/*
 * An import writes the image as an OME-Zarr pyramid into a temporary folder that is renamed into
 * place and indexed only when complete: a failed or aborted import leaves nothing in the store.
 */

/** The normalisation range is estimated on the first pyramid level at most this wide and high. */
const NORM_LEVEL_SIDE = 2048;

/** p1/p98 over all channels of the finest level that fits NORM_LEVEL_SIDE (exact for images up to that size). */
async function normalisationRange(
  dir: string,
  written: { width: number; height: number; channels: number; levels: number },
): Promise<ImageNorm> {
  const store = new FileSystemStore(dir);
  let level = 0,
    w = written.width,
    h = written.height;
  while (Math.max(w, h) > NORM_LEVEL_SIDE && level + 1 < written.levels) {
    level++;
    w = Math.ceil(w / 2);
    h = Math.ceil(h / 2);
  }
  const arr = await openArray(store, `${level}`);
  const values = new Float32Array(w * h * written.channels);
  for (let c = 0; c < written.channels; c++) values.set(await readRegion(arr, 0, 0, w, h, c), c * w * h);
  const [low, high] = percentiles(values, [1, 98]) as [number, number];
  return { low, high };
}

export interface ImportOptions {
  project: string;
  name: string;
  signal?: AbortSignal;
  onProgress?: (rowsDone: number, rows: number) => void;
}

/** What an import wrote into its temporary folder. */
export interface WrittenImport {
  width: number;
  height: number;
  channels: number;
  channelNames: string[];
  dtype: string;
  levels: number;
  norm: ImageNorm;
}

/** Writes a source as an OME-Zarr pyramid (band by band) with an empty labels/scribbles into `dir`. */
export async function writeImport(
  dir: string,
  source: RegionSource,
  options: Omit<ImportOptions, 'project'>,
): Promise<WrittenImport> {
  const levels = await writeOmeZarrFromSource(new FileSystemStore(dir), source, {
    name: options.name,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  await createScribbleLabels(dir, source.width, source.height);
  const size = { width: source.width, height: source.height, channels: source.channels, levels };
  return {
    ...size,
    dtype: source.dtype,
    norm: await normalisationRange(dir, size),
    channelNames: Array.from({ length: source.channels }, (_, c) => source.channelNames?.[c] ?? `C${c}`),
  };
}

/** Moves a written import into place and indexes it. */
export async function registerImport(
  store: Store,
  id: string,
  tmp: string,
  project: string,
  name: string,
  written: WrittenImport,
): Promise<StoredImage> {
  const dir = store.layout.image(id);
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.dirname(dir), { recursive: true });
  await rename(tmp, dir);
  // The objects are complete before the index names the image.
  await store.files.publish(dir);
  return store.images.add({ id, project, name, ...written });
}

/** A fresh image id and the temporary folder its import is written into. */
export function importTarget(store: Store): { id: string; tmp: string } {
  const id = newId('i');
  return { id, tmp: path.join(store.layout.temp, `${id}.ome.zarr`) };
}

/** Writes a source into the store and indexes it; listed in the store's imports while it runs. */
export async function importImage(store: Store, source: RegionSource, options: ImportOptions): Promise<StoredImage> {
  await store.projects.get(options.project);
  const { id, tmp } = importTarget(store);
  store.imports.start(id, options.project, options.name, source);
  try {
    const written = await writeImport(tmp, source, {
      ...options,
      onProgress: (done, rows) => {
        store.imports.progress(id, done);
        options.onProgress?.(done, rows);
      },
    });
    const image = await registerImport(store, id, tmp, options.project, options.name, written);
    store.imports.finish(id);
    return image;
  } catch (e) {
    store.imports.finish(id, e as Error);
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
