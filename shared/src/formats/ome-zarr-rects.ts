import type { PixelArray } from '../image/types.js';
import {
  type Dtype,
  downsamplePlane,
  openArray,
  pyramidLevels,
  type ReadableStore,
  readRegion,
  type WritableStore,
  writeRegion,
} from './ome-zarr.js';
import {
  type ChannelDisplay,
  createLevels,
  DEFAULT_PYRAMID,
  type LabelColors,
  type Mode,
  writeImageGroup,
  writeLabelGroup,
} from './ome-zarr-metadata.js';

/*
 * Pyramids filled rectangle by rectangle in any order (predictions, tile by tile, viewport
 * first): each rectangle goes into the levels it covers whole pixels of; the coarser levels are
 * rebuilt once every rectangle is in.
 */

/** Creates an empty multi-channel image pyramid, filled later rectangle by rectangle. */
export async function createOmeZarrImage(
  store: WritableStore,
  name: string,
  width: number,
  height: number,
  channels: ChannelDisplay[],
  dtype: Dtype,
  chunk = DEFAULT_PYRAMID.chunk,
): Promise<number> {
  const levels = pyramidLevels(width, height, chunk);
  await writeImageGroup(store, name, levels, channels);
  await createLevels(store, '', { width, height, planes: channels.length, channelAxis: true }, dtype, chunk, levels);
  return levels;
}

/** Creates an empty labels/<name> pyramid, filled later rectangle by rectangle. */
export async function createOmeZarrLabels(
  store: WritableStore,
  name: string,
  width: number,
  height: number,
  dtype: Dtype,
  chunk = DEFAULT_PYRAMID.chunk,
  colors?: LabelColors,
): Promise<number> {
  const levels = pyramidLevels(width, height, chunk);
  const base = await writeLabelGroup(store, name, levels, colors ? { colors } : {});
  await createLevels(store, base, { width, height, planes: 1, channelAxis: false }, dtype, chunk, levels);
  return levels;
}

/** Where rectangles of a pyramid made by createOmeZarrImage/Labels go. */
export interface PyramidTarget {
  store: WritableStore;
  /** Path of a level: "0" for an image, "labels/instances/0" for labels. */
  levelPath: (level: number) => string;
  levels: number;
  mode: Mode;
  channelAxis: boolean;
}

/**
 * Writes a level-0 rectangle and its halvings into the levels where the rectangle still covers
 * whole pixels (2^level <= `alignment`, the grid the rectangles are aligned to); the levels below
 * are made by rebuildCoarseLevels once every rectangle is in.
 */
export async function writePyramidRect(
  t: PyramidTarget,
  rect: { x: number; y: number; width: number; height: number },
  planes: PixelArray[],
  alignment: number,
): Promise<void> {
  let current = planes,
    w = rect.width,
    h = rect.height;
  for (let l = 0; l < t.levels && 2 ** l <= alignment; l++) {
    const arr = await openArray(t.store as ReadableStore, t.levelPath(l));
    for (const [c, plane] of current.entries()) {
      await writeRegion(arr as never, rect.x >> l, rect.y >> l, w, h, plane, t.channelAxis ? c : undefined);
    }
    const next = current.map((p) => downsamplePlane(p, w, h, t.mode));
    current = next.map((n) => n.data);
    w = next[0]!.width;
    h = next[0]!.height;
  }
}

/** Rebuilds the levels coarser than `alignment` pixels per pixel from the level above each. */
export async function rebuildCoarseLevels(t: PyramidTarget, alignment: number, planes: number): Promise<void> {
  for (let l = Math.max(1, Math.floor(Math.log2(alignment)) + 1); l < t.levels; l++) {
    const above = await openArray(t.store as ReadableStore, t.levelPath(l - 1));
    const arr = await openArray(t.store as ReadableStore, t.levelPath(l));
    const [H, W] = above.shape.slice(-2) as [number, number];
    for (let c = 0; c < planes; c++) {
      const channel = t.channelAxis ? c : undefined;
      const half = downsamplePlane(await readRegion(above, 0, 0, W, H, channel), W, H, t.mode);
      await writeRegion(arr as never, 0, 0, half.width, half.height, half.data, channel);
    }
  }
}
