import { rm } from 'node:fs/promises';
import path from 'node:path';
import {
  createOmeZarrImage,
  createOmeZarrLabels,
  DEFAULT_INSTANCE_OPTIONS,
  type ImpartialModel,
  type InstanceOptions,
  InstanceStitcher,
  openArray,
  type PixelArray,
  type PyramidTarget,
  type Rect,
  readRegion,
  rebuildCoarseLevels,
  relabelBlock,
  writePyramidRect,
} from '@impartial/shared';
import { initBackend, loadModelDir } from '@impartial/shared/node';
import { DataFiles, type TaskFilesSpec } from '../store/files.js';
import { type ImageRef, modelChannels } from './region.js';
import type { TaskHooks } from './task-hooks.js';
import { type FarmSpec, SHARE_TILES, TileFarm } from './tile-farm.js';
import { type TileMaps, tileMaps } from './tile-maps.js';

export interface InferTaskSpec {
  kind: 'infer';
  /** Object storage the task's folders live in (absent: the data folder). */
  files?: TaskFilesSpec;
  /** Where a farmed inference keeps its shares' maps (under the data folder). */
  tempDir?: string;
  /** Set by a queue worker: the tiles' maps are shared out over the workers (see TileFarm). */
  farm?: FarmSpec;
  image: ImageRef & { name: string; levels: number };
  modelDir: string;
  outDir: string;
  viewport?: Rect;
  /** Only the tiles that meet the viewport. */
  viewportOnly?: boolean;
  tile: number;
  passes: number;
  /** Monte-Carlo dropout in each pass (InferOptions.dropout). */
  dropout?: boolean;
  threshold?: number;
  /**
   * Write into the prediction as it is (a live training's refresh of its view): tiles not predicted
   * again stay. Without it, the prediction is made anew.
   */
  keep?: boolean;
}

export interface TileResult extends Rect {
  entropy: number;
  cells: number;
}

export interface InferHooks extends Omit<TaskHooks, 'progress'> {
  tile(t: TileResult, done: number, total: number): void;
}

/**
 * Context read around each tile: the net sees across tile borders, and the tile's cells are cut
 * over it and linked there with the cells of tiles already written (InstanceStitcher).
 */
const MARGIN = 32;

/** What a pass over tiles does: the viewport's single-pass preview, or all the passes asked for. */
interface Phase {
  tiles: Rect[];
  passes: number;
  preview: boolean;
}

/** Whether a tile meets a rectangle. */
const meetsRect = (t: Rect, v: Rect) =>
  t.x < v.x + v.width && t.x + t.width > v.x && t.y < v.y + v.height && t.y + t.height > v.y;

/** The viewport first as a one-pass preview when several passes are asked for, then every tile, viewport first. */
export function inferPhases(tiles: Rect[], passes: number, viewport?: Rect): Phase[] {
  const full = { tiles, passes, preview: false };
  if (!viewport || passes <= 1) return [full];
  const inView = tiles.filter((t) => meetsRect(t, viewport));
  return inView.length ? [{ tiles: inView, passes: 1, preview: true }, full] : [full];
}

/** Tiles of a grid aligned to `tile`, those meeting the viewport first, then outwards from its centre. */
export function tileOrder(width: number, height: number, tile: number, viewport?: Rect): Rect[] {
  const tiles: Rect[] = [];
  for (let y = 0; y < height; y += tile)
    for (let x = 0; x < width; x += tile)
      tiles.push({ x, y, width: Math.min(tile, width - x), height: Math.min(tile, height - y) });
  const v = viewport ?? { x: 0, y: 0, width, height };
  const cx = v.x + v.width / 2,
    cy = v.y + v.height / 2;
  const dist = (t: Rect) => Math.hypot(t.x + t.width / 2 - cx, t.y + t.height / 2 - cy);
  return tiles.sort((a, b) => Number(meetsRect(b, v)) - Number(meetsRect(a, v)) || dist(a) - dist(b));
}

/** A tile with the context read around it, clipped to the image. */
function withMargin(t: Rect, width: number, height: number): Rect {
  const x = Math.max(0, t.x - MARGIN),
    y = Math.max(0, t.y - MARGIN);
  return {
    x,
    y,
    width: Math.min(width, t.x + t.width + MARGIN) - x,
    height: Math.min(height, t.y + t.height + MARGIN) - y,
  };
}

async function* mapsHere(rects: Rect[], compute: (r: Rect) => Promise<TileMaps>, signal: AbortSignal) {
  for (const r of rects) {
    if (signal.aborted) return;
    yield await compute(r);
  }
}

/** The farm an inference on a queue worker shares its tiles out through; null when it runs alone. */
function farmOf(spec: InferTaskSpec, files: DataFiles): Promise<TileFarm | null> {
  if (!spec.farm || !spec.tempDir) return Promise.resolve(null);
  const base = {
    ...(spec.files ? { files: spec.files } : {}),
    image: spec.image,
    modelDir: spec.modelDir,
    ...(spec.dropout ? { dropout: true } : {}),
  };
  return TileFarm.open(spec.farm, files, base, path.join(spec.tempDir, 'farm', spec.farm.job));
}

function crop<T extends PixelArray | Int32Array>(
  data: T,
  width: number,
  x: number,
  y: number,
  w: number,
  h: number,
  Ctor: new (n: number) => T,
): T {
  const out = new Ctor(w * h);
  for (let r = 0; r < h; r++) out.set(data.subarray((y + r) * width + x, (y + r) * width + x + w) as never, r * w);
  return out;
}

/**
 * Predicts an image tile by tile (viewport first) into a prediction OME-Zarr: channels probability
 * and entropy, and labels/instances, each tile written to every pyramid level it covers and
 * announced through hooks.tile as soon as it is on disk.
 */
export async function runInferTask(spec: InferTaskSpec, hooks: InferHooks): Promise<InferTaskResult> {
  return DataFiles.forTask(spec.files, (files) => inferWith(spec, hooks, files));
}

export interface InferTaskResult {
  cells: number;
  meanEntropy: number;
  tiles: TileResult[];
  cancelled: boolean;
}

async function inferWith(spec: InferTaskSpec, hooks: InferHooks, files: DataFiles): Promise<InferTaskResult> {
  const backend = await initBackend();
  hooks.log(`backend: ${backend.description}`);
  if (!(await files.have(spec.modelDir))) throw new Error(`the model is missing (${spec.modelDir})`);
  return predictWith(spec, await loadModelDir(spec.modelDir), hooks, files);
}

/** Creates the prediction's OME-Zarr (channels probability and entropy, labels/instances) anew. */
async function createPrediction(spec: InferTaskSpec, model: ImpartialModel, files: DataFiles) {
  const { image } = spec;
  await rm(spec.outDir, { recursive: true, force: true });
  // In object storage, a new version of the prediction that readers see from its metadata on, tile by tile.
  const store = files.publisher(spec.outDir);
  await createOmeZarrImage(
    store,
    `${image.name} prediction ${model.lineage.id}`,
    image.width,
    image.height,
    [
      { name: 'probability', color: 'FF00FF', window: { min: 0, max: 1, start: 0, end: 1 } },
      { name: 'entropy', color: 'FFAA00', window: { min: 0, max: Math.LN2, start: 0, end: Math.LN2 } },
    ],
    '<f4',
  );
  await createOmeZarrLabels(store, 'instances', image.width, image.height, '<u4');
  await store.point();
  return store;
}

/**
 * Predicts the spec's tiles with a model in memory (a saved version, or a live training's weights)
 * into the prediction's OME-Zarr.
 */
export async function predictWith(
  spec: InferTaskSpec,
  model: ImpartialModel,
  hooks: InferHooks,
  files: DataFiles,
): Promise<InferTaskResult> {
  const { image } = spec;
  const channels = modelChannels(image);
  if (model.config.inChannels !== channels)
    throw new Error(
      `model ${model.lineage.id} reads ${model.config.inChannels} channels ` +
        `but ${channels} of image ${image.id} were given`,
    );
  const instance: InstanceOptions = {
    ...DEFAULT_INSTANCE_OPTIONS,
    ...model.lineage.instances,
    ...(spec.threshold !== undefined ? { threshold: spec.threshold } : {}),
  };
  // Kept: written into the version readers see now, as an image's scribble raster is.
  const store = spec.keep ? await files.mirror(spec.outDir) : await createPrediction(spec, model, files);
  const imageZarr = await files.zarr(image.dir);
  const levels = image.levels;
  const channels2: PyramidTarget = { store, levels, levelPath: (l) => `${l}`, mode: 'mean', channelAxis: true };
  const labels1: PyramidTarget = {
    store,
    levels,
    levelPath: (l) => `labels/instances/${l}`,
    mode: 'nearest',
    channelAxis: false,
  };
  const ordered = tileOrder(image.width, image.height, spec.tile, spec.viewport);
  const { viewport } = spec;
  const tiles = spec.viewportOnly && viewport ? ordered.filter((t) => meetsRect(t, viewport)) : ordered;
  const phases = inferPhases(tiles, spec.passes, viewport);
  const total = phases.reduce((n, p) => n + p.tiles.length, 0);
  const level0 = await openArray(store, '0');
  const labelsLevel0 = await openArray(store, 'labels/instances/0');
  const stitcher = new InstanceStitcher();
  const results: TileResult[] = [];
  let done = 0,
    entropySum = 0;
  const farm = await farmOf(spec, files);
  try {
    for (const phase of phases) {
      const rects = phase.tiles.map((t) => withMargin(t, image.width, image.height));
      const here = (r: Rect) => tileMaps(model, image, imageZarr, r, phase.passes, spec.dropout);
      const maps =
        farm && rects.length > SHARE_TILES
          ? farm.maps(rects, phase.passes, here, hooks.signal)
          : mapsHere(rects, here, hooks.signal);
      let k = 0;
      for await (const { probability, entropy } of maps) {
        const t = phase.tiles[k]!,
          ext = rects[k++]!;
        // What neighbours wrote: the tile is cut by their values where they lie, so its cells agree with theirs.
        const written = {
          probability: (await readRegion(level0, ext.x, ext.y, ext.width, ext.height, 0)) as Float32Array,
          labels: (await readRegion(labelsLevel0, ext.x, ext.y, ext.width, ext.height)) as Uint32Array,
        };
        const stitched = stitcher.cutBlock(ext, t, image, probability, written, instance);
        const ox = t.x - ext.x,
          oy = t.y - ext.y;
        const p = crop(probability, ext.width, ox, oy, t.width, t.height, Float32Array);
        const e = crop(entropy, ext.width, ox, oy, t.width, t.height, Float32Array);
        await writePyramidRect(channels2, t, [p, e], spec.tile);
        await writePyramidRect(labels1, t, [stitched.labels], spec.tile);
        await store.flush();
        let s = 0;
        for (const v of e) s += v;
        const result = { ...t, entropy: s / e.length, cells: stitched.cells };
        if (!phase.preview) {
          entropySum += s;
          results.push(result);
        }
        hooks.tile(result, ++done, total);
      }
      if (hooks.signal.aborted) return { cells: stitcher.cells, meanEntropy: NaN, tiles: results, cancelled: true };
    }
    if (farm?.remote) hooks.log(`${farm.remote} share(s) of ${SHARE_TILES} tiles were predicted by other workers`);
  } finally {
    await farm?.close();
  }
  // Cells found to be one only after both their parts were written (they met at a corner).
  for (const r of stitcher.rewrites()) {
    const block = (await readRegion(labelsLevel0, r.rect.x, r.rect.y, r.rect.width, r.rect.height)) as Uint32Array;
    relabelBlock(block, r.ids);
    await writePyramidRect(labels1, r.rect, [block], spec.tile);
    stitcher.rewritten(r);
  }
  await rebuildCoarseLevels(channels2, spec.tile, 2);
  await rebuildCoarseLevels(labels1, spec.tile, 1);
  await store.flush();
  if (!spec.keep) await store.prune();
  const cells = stitcher.cells;
  const covered = tiles.reduce((n, t) => n + t.width * t.height, 0);
  return { cells, meanEntropy: entropySum / covered, tiles: results, cancelled: false };
}
