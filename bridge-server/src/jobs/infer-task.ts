import { rm } from 'node:fs/promises';
import {
  createOmeZarrImage,
  createOmeZarrLabels,
  DEFAULT_INSTANCE_OPTIONS,
  type InstanceOptions,
  openArray,
  type PixelArray,
  type PyramidTarget,
  predict,
  probabilityToInstances,
  type Rect,
  readRegion,
  rebuildCoarseLevels,
  writePyramidRect,
} from '@impartial/shared';
import { FileSystemStore, initBackend, loadModelDir } from '@impartial/shared/node';
import { type ImageRef, modelChannels, readNormalizedRegion } from './region.js';
import type { TaskHooks } from './train-task.js';

export interface InferTaskSpec {
  kind: 'infer';
  image: ImageRef & { name: string; levels: number };
  modelDir: string;
  outDir: string;
  viewport?: Rect;
  tile: number;
  passes: number;
  threshold?: number;
}

export interface TileResult extends Rect {
  entropy: number;
  cells: number;
}

export interface InferHooks extends Omit<TaskHooks, 'progress'> {
  tile(t: TileResult, done: number, total: number): void;
}

/** Context read around each tile so the net sees across tile borders. */
const MARGIN = 32;
/** Below this many pixels, instances are cut again over the whole image at the end (no cells split at tile borders). */
const GLOBAL_INSTANCES_PIXELS = 4096 * 4096;

/** Tiles of a grid aligned to `tile`, those meeting the viewport first, then outwards from its centre. */
export function tileOrder(width: number, height: number, tile: number, viewport?: Rect): Rect[] {
  const tiles: Rect[] = [];
  for (let y = 0; y < height; y += tile)
    for (let x = 0; x < width; x += tile)
      tiles.push({ x, y, width: Math.min(tile, width - x), height: Math.min(tile, height - y) });
  const v = viewport ?? { x: 0, y: 0, width, height };
  const cx = v.x + v.width / 2,
    cy = v.y + v.height / 2;
  const meets = (t: Rect) => t.x < v.x + v.width && t.x + t.width > v.x && t.y < v.y + v.height && t.y + t.height > v.y;
  const dist = (t: Rect) => Math.hypot(t.x + t.width / 2 - cx, t.y + t.height / 2 - cy);
  return tiles.sort((a, b) => Number(meets(b)) - Number(meets(a)) || dist(a) - dist(b));
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
export async function runInferTask(
  spec: InferTaskSpec,
  hooks: InferHooks,
): Promise<{ cells: number; meanEntropy: number; tiles: TileResult[]; cancelled: boolean }> {
  const backend = await initBackend();
  hooks.log(`backend: ${backend.description}`);
  const model = await loadModelDir(spec.modelDir);
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
  await rm(spec.outDir, { recursive: true, force: true });
  const store = new FileSystemStore(spec.outDir);
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
  const levels = image.levels;
  const channels2: PyramidTarget = { store, levels, levelPath: (l) => `${l}`, mode: 'mean', channelAxis: true };
  const labels1: PyramidTarget = {
    store,
    levels,
    levelPath: (l) => `labels/instances/${l}`,
    mode: 'nearest',
    channelAxis: false,
  };
  const tiles = tileOrder(image.width, image.height, spec.tile, spec.viewport);
  const results: TileResult[] = [];
  let nextLabel = 1,
    entropySum = 0;
  for (const t of tiles) {
    if (hooks.signal.aborted) return { cells: nextLabel - 1, meanEntropy: NaN, tiles: results, cancelled: true };
    const x0 = Math.max(0, t.x - MARGIN),
      y0 = Math.max(0, t.y - MARGIN);
    const x1 = Math.min(image.width, t.x + t.width + MARGIN),
      y1 = Math.min(image.height, t.y + t.height + MARGIN);
    const sw = x1 - x0,
      sh = y1 - y0;
    const data = await readNormalizedRegion(image, x0, y0, sw, sh);
    const { probability, entropy } = await predict(
      model.config,
      model.weights,
      { width: sw, height: sh, channels, data },
      { tile: Math.max(sw, sh), overlap: 0, passes: spec.passes },
    );
    const labels = probabilityToInstances(probability, instance);
    const ox = t.x - x0,
      oy = t.y - y0;
    const p = crop(probability.data, sw, ox, oy, t.width, t.height, Float32Array);
    const e = crop(entropy.data, sw, ox, oy, t.width, t.height, Float32Array);
    const raw = crop(labels.data, sw, ox, oy, t.width, t.height, Int32Array);
    const relabel = new Map<number, number>();
    const l = new Uint32Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const v = raw[i]!;
      if (!v) continue;
      let id = relabel.get(v);
      if (id === undefined) {
        id = nextLabel++;
        relabel.set(v, id);
      }
      l[i] = id;
    }
    await writePyramidRect(channels2, t, [p, e], spec.tile);
    await writePyramidRect(labels1, t, [l], spec.tile);
    let s = 0;
    for (const v of e) s += v;
    entropySum += s;
    const result = { ...t, entropy: s / e.length, cells: relabel.size };
    results.push(result);
    hooks.tile(result, results.length, tiles.length);
  }
  await rebuildCoarseLevels(channels2, spec.tile, 2);
  let cells = nextLabel - 1;
  if (image.width * image.height <= GLOBAL_INSTANCES_PIXELS && tiles.length > 1) {
    // Cells cut by tile borders are made whole again by one cut over the whole probability map.
    const prob = (await readRegion(await openArray(store, '0'), 0, 0, image.width, image.height, 0)) as Float32Array;
    const labels = probabilityToInstances({ width: image.width, height: image.height, data: prob }, instance);
    const whole = { x: 0, y: 0, width: image.width, height: image.height };
    await writePyramidRect(labels1, whole, [Uint32Array.from(labels.data)], Number.POSITIVE_INFINITY);
    cells = labels.count;
    hooks.tile(
      {
        x: 0,
        y: 0,
        width: image.width,
        height: image.height,
        entropy: entropySum / (image.width * image.height),
        cells,
      },
      tiles.length,
      tiles.length,
    );
  } else {
    await rebuildCoarseLevels(labels1, spec.tile, 1);
  }
  return { cells, meanEntropy: entropySum / (image.width * image.height), tiles: results, cancelled: false };
}
