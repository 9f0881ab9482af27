import * as zarr from 'zarrita';
import type { LabelImage, MultiChannelImage, PixelArray } from '../image/types.js';

/*
 * OME-NGFF 0.4 (Zarr v2) image and label pyramids through zarrita. zarrita's `create` writes only
 * Zarr v3, so the v2 metadata JSON is written here and arrays are filled with `open.v2` + `set`.
 * Stores are zarrita stores ({get, set}): a FileSystemStore in Node, a Map in memory.
 */

// zarrita decodes zlib itself but cannot encode it; numcodecs' codec does both.
zarr.registry.set('numcodecs.zlib', () => import('numcodecs/zlib').then((m) => m.default as never));

export type WritableStore = zarr.AsyncMutable | zarr.Mutable;
export type ReadableStore = zarr.Readable;

export type Dtype = '<f4' | '<u2' | '|u1' | '<i4' | '<u4';

const DTYPE_OF: Array<[new (n: number) => PixelArray, Dtype]> = [
  [Float32Array, '<f4'],
  [Uint16Array, '<u2'],
  [Uint8Array, '|u1'],
  [Int32Array, '<i4'],
  [Uint32Array, '<u4'],
];

export function dtypeOf(data: PixelArray): Dtype {
  const hit = DTYPE_OF.find(([ctor]) => data instanceof ctor);
  if (!hit) throw new Error('unsupported pixel type');
  return hit[1];
}

const encode = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));

export async function putJson(store: WritableStore, key: string, value: unknown): Promise<void> {
  await store.set(key as `/${string}`, encode(value));
}

/** Level count such that the coarsest level fits in one chunk. */
export function pyramidLevels(width: number, height: number, chunk: number): number {
  let levels = 1,
    w = width,
    h = height;
  while (Math.max(w, h) > chunk) {
    w = Math.ceil(w / 2);
    h = Math.ceil(h / 2);
    levels++;
  }
  return levels;
}

type Axis = { name: string; type: string; unit?: string };
export const SPACE: Axis[] = [
  { name: 'y', type: 'space', unit: 'micrometer' },
  { name: 'x', type: 'space', unit: 'micrometer' },
];
export const CYX: Axis[] = [{ name: 'c', type: 'channel' }, ...SPACE];

export function multiscales(name: string, axes: Axis[], levels: number, pixelSize: number) {
  const lead = axes.length === 3 ? [1] : [];
  return [
    {
      version: '0.4',
      name,
      axes,
      type: 'mean',
      datasets: Array.from({ length: levels }, (_, l) => ({
        path: `${l}`,
        coordinateTransformations: [{ type: 'scale', scale: [...lead, pixelSize * 2 ** l, pixelSize * 2 ** l] }],
      })),
    },
  ];
}

export async function createArray(store: WritableStore, path: string, shape: number[], chunks: number[], dtype: Dtype) {
  await putJson(store, `${path}/.zarray`, {
    zarr_format: 2,
    shape,
    chunks,
    dtype,
    compressor: { id: 'zlib', level: 5 },
    fill_value: 0,
    order: 'C',
    filters: null,
    dimension_separator: '/',
  });
  return zarr.open.v2(zarr.root(store).resolve(path.replace(/^\//, '')), { kind: 'array', attrs: false });
}

/** Halves a plane: mean of 2x2 blocks for intensities, top-left sample (never a mean) for labels. */
export function downsamplePlane<T extends PixelArray>(
  plane: T,
  width: number,
  height: number,
  mode: 'mean' | 'nearest',
): { data: T; width: number; height: number } {
  const w = Math.ceil(width / 2),
    h = Math.ceil(height / 2);
  const out = new (plane.constructor as new (n: number) => T)(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (mode === 'nearest') {
        out[y * w + x] = plane[2 * y * width + 2 * x]!;
        continue;
      }
      let s = 0,
        n = 0;
      for (let dy = 0; dy < 2 && 2 * y + dy < height; dy++)
        for (let dx = 0; dx < 2 && 2 * x + dx < width; dx++) {
          s += plane[(2 * y + dy) * width + 2 * x + dx]!;
          n++;
        }
      out[y * w + x] = plane instanceof Float32Array ? s / n : Math.round(s / n);
    }
  }
  return { data: out, width: w, height: h };
}

export async function readJson(store: ReadableStore, key: string): Promise<unknown> {
  const bytes = await store.get(key as `/${string}`);
  return bytes ? JSON.parse(new TextDecoder().decode(bytes)) : null;
}

export interface OmeZarrInfo {
  name: string;
  levels: string[];
  axes: string[];
  channelNames: string[];
  labels: string[];
}

/** Reads and checks the NGFF 0.4 metadata at the store root. */
export async function readOmeZarrInfo(store: ReadableStore): Promise<OmeZarrInfo> {
  const attrs = (await readJson(store, '/.zattrs')) as {
    multiscales?: Array<{ name?: string; axes: Array<{ name: string } | string>; datasets: Array<{ path: string }> }>;
    omero?: { channels?: Array<{ label?: string }> };
  } | null;
  const ms = attrs?.multiscales?.[0];
  if (!ms) throw new Error('not an OME-Zarr image: no multiscales in .zattrs');
  const labels = ((await readJson(store, '/labels/.zattrs')) as { labels?: string[] } | null)?.labels ?? [];
  return {
    name: ms.name ?? 'image',
    levels: ms.datasets.map((d) => d.path),
    axes: ms.axes.map((a) => (typeof a === 'string' ? a : a.name)),
    channelNames: attrs?.omero?.channels?.map((c, i) => c.label ?? `C${i}`) ?? [],
    labels,
  };
}

/** Reads one level of an OME-Zarr image (axes c,y,x or y,x; other leading axes at index 0). */
export async function readOmeZarrImage(store: ReadableStore, level = 0): Promise<MultiChannelImage> {
  const info = await readOmeZarrInfo(store);
  const path = info.levels[level];
  if (path === undefined) throw new Error(`level ${level} does not exist (the image has ${info.levels.length})`);
  const arr = await zarr.open(zarr.root(store).resolve(path), { kind: 'array' });
  const cIndex = info.axes.indexOf('c');
  const C = cIndex >= 0 ? arr.shape[cIndex]! : 1;
  const H = arr.shape[arr.shape.length - 2]!,
    W = arr.shape[arr.shape.length - 1]!;
  const data = new Float32Array(C * H * W);
  for (let c = 0; c < C; c++) {
    const sel = info.axes.map((a, i) => (i === cIndex ? c : a === 'y' || a === 'x' ? null : 0));
    const chunk = (await zarr.get(arr, sel)) as { data: ArrayLike<number> };
    for (let i = 0; i < H * W; i++) data[c * H * W + i] = Number(chunk.data[i]!);
  }
  return {
    width: W,
    height: H,
    channels: C,
    data,
    ...(info.channelNames.length === C ? { channelNames: info.channelNames } : {}),
  };
}

/** Reads level 0 of labels/<name>. */
export async function readOmeZarrLabels(store: ReadableStore, name: string): Promise<LabelImage> {
  const arr = await zarr.open(zarr.root(store).resolve(`labels/${name}/0`), { kind: 'array' });
  const H = arr.shape[arr.shape.length - 2]!,
    W = arr.shape[arr.shape.length - 1]!;
  const sel = arr.shape.map((_, i) => (i >= arr.shape.length - 2 ? null : 0));
  const chunk = (await zarr.get(arr, sel)) as { data: ArrayLike<number> };
  return { width: W, height: H, data: Int32Array.from(chunk.data as ArrayLike<number>, Number) };
}

/** Opens one array of a store by path ("0", "labels/scribbles/2"). */
export async function openArray(store: ReadableStore, path: string): Promise<zarr.Array<zarr.DataType, ReadableStore>> {
  return zarr.open.v2(zarr.root(store).resolve(path), { kind: 'array', attrs: false }) as never;
}

/** A region of a 2-D array or of one plane of a (c, y, x) array, clipped by the caller to the array. */
export async function readRegion(
  arr: zarr.Array<zarr.DataType, ReadableStore>,
  x: number,
  y: number,
  width: number,
  height: number,
  channel?: number,
): Promise<PixelArray> {
  const sel =
    channel === undefined
      ? [zarr.slice(y, y + height), zarr.slice(x, x + width)]
      : [channel, zarr.slice(y, y + height), zarr.slice(x, x + width)];
  const chunk = (await zarr.get(arr, sel)) as { data: PixelArray };
  return chunk.data;
}

/** Writes a region of a 2-D array or of one plane of a (c, y, x) array. */
export async function writeRegion(
  arr: zarr.Array<zarr.DataType, WritableStore>,
  x: number,
  y: number,
  width: number,
  height: number,
  data: PixelArray,
  channel?: number,
): Promise<void> {
  const sel =
    channel === undefined
      ? [zarr.slice(y, y + height), zarr.slice(x, x + width)]
      : [channel, zarr.slice(y, y + height), zarr.slice(x, x + width)];
  await zarr.set(arr, sel, { data, shape: [height, width], stride: [width, 1] } as never);
}
