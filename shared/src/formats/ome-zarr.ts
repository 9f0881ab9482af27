import * as zarr from 'zarrita';
import type { LabelImage, MultiChannelImage } from '../image/types.js';

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
export type PixelArray = Float32Array | Uint16Array | Uint8Array | Int32Array | Uint32Array;

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

export interface PyramidOptions {
  /** Chunk edge in pixels. */
  chunk: number;
  /** Smallest level: stop halving once both sides fit in one chunk. */
  levels?: number;
  /** Physical pixel size of level 0 in micrometres (1 when unknown). */
  pixelSize?: number;
}

export const DEFAULT_PYRAMID: PyramidOptions = { chunk: 256 };

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

async function writePyramid(
  store: WritableStore,
  path: string,
  planes: PixelArray[],
  width: number,
  height: number,
  levels: number,
  chunk: number,
  mode: 'mean' | 'nearest',
  withChannelAxis: boolean,
) {
  let current = planes,
    w = width,
    h = height;
  for (let l = 0; l < levels; l++) {
    const dtype = dtypeOf(current[0]!);
    const shape = withChannelAxis ? [current.length, h, w] : [h, w];
    const chunks = withChannelAxis ? [1, chunk, chunk] : [chunk, chunk];
    const arr = await createArray(store, `${path}/${l}`, shape, chunks, dtype);
    for (let c = 0; c < current.length; c++) {
      const sel = withChannelAxis ? [c, null, null] : [null, null];
      await zarr.set(arr, sel, { data: current[c]!, shape: [h, w], stride: [w, 1] } as never);
    }
    if (l + 1 < levels) {
      const next = current.map((p) => downsamplePlane(p, w, h, mode));
      current = next.map((n) => n.data);
      w = next[0]!.width;
      h = next[0]!.height;
    }
  }
}

export interface ChannelDisplay {
  name: string;
  color?: string;
  window?: { min: number; max: number; start: number; end: number };
}

export const PALETTE = ['0000FF', '00FF00', 'FF0000', 'FFFF00', 'FF00FF', '00FFFF', 'FFFFFF', 'FF8000'];

function channelWindow(plane: ArrayLike<number>): { min: number; max: number; start: number; end: number } {
  let min = Infinity,
    max = -Infinity;
  for (let i = 0; i < plane.length; i++) {
    const v = plane[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!Number.isFinite(min)) {
    min = 0;
    max = 1;
  }
  return { min, max, start: min, end: max };
}

export interface ImageWriteInput {
  width: number;
  height: number;
  /** One plane per channel (row-major). */
  planes: PixelArray[];
  name: string;
  channels?: ChannelDisplay[];
}

/** Writes an NGFF 0.4 multiscale image group at the store root, with omero channel metadata. */
export async function writeOmeZarrImage(
  store: WritableStore,
  input: ImageWriteInput,
  options: Partial<PyramidOptions> = {},
): Promise<number> {
  const o = { ...DEFAULT_PYRAMID, ...options };
  const levels = o.levels ?? pyramidLevels(input.width, input.height, o.chunk);
  const channels = input.planes.map((p, c) => {
    const given = input.channels?.[c];
    return {
      label: given?.name ?? `C${c}`,
      color: given?.color ?? PALETTE[c % PALETTE.length]!,
      active: c < 6,
      window: given?.window ?? channelWindow(p),
    };
  });
  await putJson(store, '/.zgroup', { zarr_format: 2 });
  await putJson(store, '/.zattrs', {
    multiscales: multiscales(input.name, CYX, levels, o.pixelSize ?? 1),
    omero: { version: '0.4', name: input.name, rdefs: { model: 'color' }, channels },
  });
  await writePyramid(store, '', input.planes, input.width, input.height, levels, o.chunk, 'mean', true);
  return levels;
}

/** Image planes from a MultiChannelImage (views, no copy). */
export function planesOf(image: MultiChannelImage): Float32Array[] {
  const n = image.width * image.height;
  return Array.from({ length: image.channels }, (_, c) => image.data.subarray(c * n, (c + 1) * n));
}

export interface LabelWriteOptions {
  /** Colour per label value (RGBA 0-255). */
  colors?: Array<{ 'label-value': number; rgba: [number, number, number, number] }>;
  properties?: Array<Record<string, unknown>>;
}

/** Adds (or replaces) labels/<name> next to the image at the store root, with image-label metadata. */
export async function writeOmeZarrLabels(
  store: WritableStore,
  name: string,
  labels: LabelImage,
  levels: number,
  options: LabelWriteOptions & Partial<PyramidOptions> = {},
): Promise<void> {
  const o = { ...DEFAULT_PYRAMID, ...options };
  let max = 0;
  for (const v of labels.data) if (v > max) max = v;
  const data =
    max < 256
      ? Uint8Array.from(labels.data)
      : max < 65536
        ? Uint16Array.from(labels.data)
        : Uint32Array.from(labels.data);
  const existing = (await readJson(store as ReadableStore, '/labels/.zattrs')) as { labels?: string[] } | null;
  const names = [...new Set([...(existing?.labels ?? []), name])];
  await putJson(store, '/labels/.zgroup', { zarr_format: 2 });
  await putJson(store, '/labels/.zattrs', { labels: names });
  const base = `/labels/${name}`;
  await putJson(store, `${base}/.zgroup`, { zarr_format: 2 });
  await putJson(store, `${base}/.zattrs`, {
    multiscales: multiscales(name, SPACE, levels, o.pixelSize ?? 1),
    'image-label': {
      version: '0.4',
      source: { image: '../../' },
      ...(o.colors ? { colors: o.colors } : {}),
      ...(o.properties ? { properties: o.properties } : {}),
    },
  });
  await writePyramid(store, base, [data], labels.width, labels.height, levels, o.chunk, 'nearest', false);
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
