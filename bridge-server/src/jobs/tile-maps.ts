import { type ImpartialModel, predict, type ReadableStore, type Rect } from '@impartial/shared';
import { initBackend, loadModelDir } from '@impartial/shared/node';
import { DataFiles, type TaskFilesSpec } from '../store/files.js';
import { type ImageRef, modelChannels, readNormalizedRegion } from './region.js';
import type { TaskHooks } from './task-hooks.js';

/** What the net gives over one tile's rect (the tile and its context margin). */
export interface TileMaps {
  probability: Float32Array;
  entropy: Float32Array;
}

/** The net over a rect of a stored image, in one pass over it (the rect is the net's whole input). */
export async function tileMaps(
  model: ImpartialModel,
  image: ImageRef,
  zarr: ReadableStore,
  r: Rect,
  passes: number,
  dropout = false,
): Promise<TileMaps> {
  const data = await readNormalizedRegion(image, r.x, r.y, r.width, r.height, zarr);
  const out = await predict(
    model.config,
    model.weights,
    { width: r.width, height: r.height, channels: modelChannels(image), data },
    { tile: Math.max(r.width, r.height), overlap: 0, passes, dropout },
  );
  return { probability: out.probability.data, entropy: out.entropy.data };
}

/** Maps of several rects in one blob: each rect's probability, then its entropy, as float32. */
export function encodeMaps(maps: TileMaps[]): Uint8Array {
  const n = maps.reduce((s, m) => s + m.probability.length * 2, 0);
  const out = new Float32Array(n);
  let at = 0;
  for (const m of maps) {
    out.set(m.probability, at);
    out.set(m.entropy, at + m.probability.length);
    at += m.probability.length * 2;
  }
  return new Uint8Array(out.buffer);
}

export function decodeMaps(bytes: Uint8Array, rects: Rect[]): TileMaps[] {
  const expected = rects.reduce((s, r) => s + r.width * r.height * 8, 0);
  if (bytes.byteLength !== expected) throw new Error(`tile maps: ${bytes.byteLength} bytes, expected ${expected}`);
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  let at = 0;
  return rects.map((r) => {
    const n = r.width * r.height;
    const m = { probability: all.subarray(at, at + n), entropy: all.subarray(at + n, at + 2 * n) };
    at += 2 * n;
    return m;
  });
}

/** A share of an inference's tiles that another worker computes for the one cutting the cells. */
export interface TileMapsSpec {
  kind: 'tile-maps';
  files?: TaskFilesSpec;
  image: ImageRef;
  modelDir: string;
  rects: Rect[];
  passes: number;
  /** Monte-Carlo dropout in each pass. */
  dropout?: boolean;
  /** Where the maps go (a file of the data folder, or its object). */
  out: string;
}

export async function runTileMapsTask(spec: TileMapsSpec, hooks: Omit<TaskHooks, 'progress'>): Promise<boolean> {
  return DataFiles.forTask(spec.files, async (files) => {
    if (!(await files.have(spec.modelDir))) throw new Error(`the model is missing (${spec.modelDir})`);
    await initBackend();
    const model = await loadModelDir(spec.modelDir);
    const zarr = await files.zarr(spec.image.dir);
    const maps: TileMaps[] = [];
    for (const r of spec.rects) {
      if (hooks.signal.aborted) return false;
      maps.push(await tileMaps(model, spec.image, zarr, r, spec.passes, spec.dropout));
    }
    await files.putBlob(spec.out, encodeMaps(maps));
    return true;
  });
}
