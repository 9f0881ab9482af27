import type * as zarr from 'zarrita';
import type { LabelImage, MultiChannelImage, PixelArray, RegionSource, SourceDtype } from '../image/types.js';
import {
  CYX,
  createArray,
  type Dtype,
  downsamplePlane,
  dtypeOf,
  multiscales,
  openArray,
  putJson,
  pyramidLevels,
  type ReadableStore,
  readJson,
  readRegion,
  SPACE,
  type WritableStore,
  writeRegion,
} from './ome-zarr.js';

/*
 * The one OME-Zarr pyramid writer (NGFF 0.4, Zarr v2). Level 0 arrives either in bands of full
 * rows (imports, whole images in memory) or as rectangles in any order (predictions, tile by
 * tile); each is halved into the levels below as it is written, so no level is ever held whole.
 */

export interface ChannelDisplay {
  name: string;
  color?: string;
  window?: { min: number; max: number; start: number; end: number };
}

export const PALETTE = ['0000FF', '00FF00', 'FF0000', 'FFFF00', 'FF00FF', '00FFFF', 'FFFFFF', 'FF8000'];

type LabelColors = Array<{ 'label-value': number; rgba: [number, number, number, number] }>;

export interface PyramidOptions {
  /** Chunk edge in pixels. */
  chunk: number;
  /** Level count (default: halve until the coarsest level fits one chunk). */
  levels?: number;
  /** Physical pixel size of level 0 in micrometres (1 when unknown). */
  pixelSize?: number;
}

export const DEFAULT_PYRAMID: PyramidOptions = { chunk: 256 };

type Mode = 'mean' | 'nearest';

const ZARR_DTYPE: Record<SourceDtype, Dtype> = { uint8: '|u1', uint16: '<u2', float32: '<f4' };
const CTOR: Record<Dtype, new (n: number) => PixelArray> = {
  '|u1': Uint8Array,
  '<u2': Uint16Array,
  '<f4': Float32Array,
  '<i4': Int32Array,
  '<u4': Uint32Array,
};

/** The image group's metadata: multiscales and omero channels. */
async function writeImageGroup(
  store: WritableStore,
  name: string,
  levels: number,
  channels: ChannelDisplay[],
  pixelSize = 1,
): Promise<void> {
  await putJson(store, '/.zgroup', { zarr_format: 2 });
  await putJson(store, '/.zattrs', {
    multiscales: multiscales(name, CYX, levels, pixelSize),
    omero: {
      version: '0.4',
      name,
      rdefs: { model: 'color' },
      channels: channels.map((c, i) => ({
        label: c.name,
        color: c.color ?? PALETTE[i % PALETTE.length]!,
        active: i < 6,
        window: c.window ?? { min: 0, max: 1, start: 0, end: 1 },
      })),
    },
  });
}

/** labels/<name>'s metadata, added to the image's list of labels. */
async function writeLabelGroup(
  store: WritableStore,
  name: string,
  levels: number,
  options: { colors?: LabelColors; properties?: Array<Record<string, unknown>>; pixelSize?: number },
): Promise<string> {
  const existing = (await readJson(store as ReadableStore, '/labels/.zattrs')) as { labels?: string[] } | null;
  await putJson(store, '/labels/.zgroup', { zarr_format: 2 });
  await putJson(store, '/labels/.zattrs', { labels: [...new Set([...(existing?.labels ?? []), name])] });
  const base = `/labels/${name}`;
  await putJson(store, `${base}/.zgroup`, { zarr_format: 2 });
  await putJson(store, `${base}/.zattrs`, {
    multiscales: multiscales(name, SPACE, levels, options.pixelSize ?? 1),
    'image-label': {
      version: '0.4',
      source: { image: '../../' },
      ...(options.colors ? { colors: options.colors } : {}),
      ...(options.properties ? { properties: options.properties } : {}),
    },
  });
  return base;
}

/** Empty arrays of every level (absent chunks read as 0). */
async function createLevels(
  store: WritableStore,
  path: string,
  size: { width: number; height: number; planes: number; channelAxis: boolean },
  dtype: Dtype,
  chunk: number,
  levels: number,
) {
  const arrays = [];
  for (let l = 0, w = size.width, h = size.height; l < levels; l++, w = Math.ceil(w / 2), h = Math.ceil(h / 2)) {
    const shape = size.channelAxis ? [size.planes, h, w] : [h, w];
    const chunks = size.channelAxis ? [1, chunk, chunk] : [chunk, chunk];
    arrays.push(await createArray(store, `${path}/${l}`, shape, chunks, dtype));
  }
  return arrays;
}

/** Pending rows of one level; writes a band of `chunk` rows at a time and feeds its halving to the next level. */
class BandWriter {
  private readonly pending: PixelArray[];
  private filled = 0;
  private written = 0;

  constructor(
    private readonly arr: zarr.Array<zarr.DataType, WritableStore>,
    private readonly width: number,
    private readonly height: number,
    private readonly chunk: number,
    private readonly mode: Mode,
    private readonly channelAxis: boolean,
    private readonly next: BandWriter | null,
    planes: number,
    ctor: new (n: number) => PixelArray,
  ) {
    this.pending = Array.from({ length: planes }, () => new ctor(chunk * width));
  }

  async push(rows: PixelArray[], count: number): Promise<void> {
    let offset = 0;
    while (offset < count) {
      const take = Math.min(count - offset, this.chunk - this.filled);
      for (const [c, plane] of this.pending.entries()) {
        plane.set(rows[c]!.subarray(offset * this.width, (offset + take) * this.width), this.filled * this.width);
      }
      this.filled += take;
      offset += take;
      if (this.filled === this.chunk || this.written + this.filled === this.height) await this.flush();
    }
  }

  private async flush(): Promise<void> {
    const rows = this.filled;
    const bands = this.pending.map((p) => p.subarray(0, rows * this.width) as PixelArray);
    for (const [c, data] of bands.entries()) {
      await writeRegion(this.arr, 0, this.written, this.width, rows, data, this.channelAxis ? c : undefined);
    }
    if (this.next) {
      const halves = bands.map((b) => downsamplePlane(b, this.width, rows, this.mode).data);
      await this.next.push(halves, Math.ceil(rows / 2));
    }
    this.written += rows;
    this.filled = 0;
  }
}

/** Writes bands of level-0 rows from `source` into `path`'s levels. */
async function writeBands(
  store: WritableStore,
  path: string,
  source: RegionSource,
  dtype: Dtype,
  o: { chunk: number; levels: number; mode: Mode; channelAxis: boolean; signal?: AbortSignal },
  onProgress?: (rowsDone: number, rows: number) => void,
): Promise<void> {
  const size = { width: source.width, height: source.height, planes: source.channels, channelAxis: o.channelAxis };
  const arrays = await createLevels(store, path, size, dtype, o.chunk, o.levels);
  let top: BandWriter | null = null;
  for (let l = o.levels - 1; l >= 0; l--) {
    const [w, h] = [Math.ceil(source.width / 2 ** l), Math.ceil(source.height / 2 ** l)];
    top = new BandWriter(arrays[l] as never, w, h, o.chunk, o.mode, o.channelAxis, top, source.channels, CTOR[dtype]);
  }
  for (let y = 0; y < source.height; y += o.chunk) {
    o.signal?.throwIfAborted();
    const rows = Math.min(o.chunk, source.height - y);
    await top!.push(await source.readRows(y, rows), rows);
    onProgress?.(y + rows, source.height);
  }
}

export interface StreamPyramidOptions {
  name: string;
  chunk?: number;
  levels?: number;
  channels?: ChannelDisplay[];
  pixelSize?: number;
  onProgress?: (rowsDone: number, rows: number) => void;
  signal?: AbortSignal;
}

/** Writes an image pyramid at the store root from a source read band by band. Returns the level count. */
export async function writeOmeZarrFromSource(
  store: WritableStore,
  source: RegionSource,
  options: StreamPyramidOptions,
): Promise<number> {
  const chunk = options.chunk ?? DEFAULT_PYRAMID.chunk;
  const levels = options.levels ?? pyramidLevels(source.width, source.height, chunk);
  const range = source.dtype === 'uint8' ? 255 : source.dtype === 'uint16' ? 65535 : 1;
  const channels = Array.from({ length: source.channels }, (_, c) => ({
    name: options.channels?.[c]?.name ?? source.channelNames?.[c] ?? `C${c}`,
    ...(options.channels?.[c]?.color ? { color: options.channels[c].color } : {}),
    window: options.channels?.[c]?.window ?? { min: 0, max: range, start: 0, end: range },
  }));
  await writeImageGroup(store, options.name, levels, channels, options.pixelSize);
  const o = {
    chunk,
    levels,
    mode: 'mean' as const,
    channelAxis: true,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  await writeBands(store, '', source, ZARR_DTYPE[source.dtype], o, options.onProgress);
  return levels;
}

/** Planes already in memory as a band source. */
function planesSource(planes: PixelArray[], width: number, height: number): RegionSource {
  return {
    width,
    height,
    channels: planes.length,
    dtype: 'float32',
    async readRows(y, rows) {
      return planes.map((p) => p.subarray(y * width, (y + rows) * width) as PixelArray);
    },
  };
}

function channelWindow(plane: ArrayLike<number>): { min: number; max: number; start: number; end: number } {
  let min = Infinity,
    max = -Infinity;
  for (let i = 0; i < plane.length; i++) {
    const v = plane[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!Number.isFinite(min)) [min, max] = [0, 1];
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

/** Writes an image in memory as a pyramid at the store root; channel windows span each plane's values. */
export async function writeOmeZarrImage(
  store: WritableStore,
  input: ImageWriteInput,
  options: Partial<PyramidOptions> = {},
): Promise<number> {
  const o = { ...DEFAULT_PYRAMID, ...options };
  const levels = o.levels ?? pyramidLevels(input.width, input.height, o.chunk);
  const channels = input.planes.map((p, c) => ({
    name: input.channels?.[c]?.name ?? `C${c}`,
    ...(input.channels?.[c]?.color ? { color: input.channels[c].color } : {}),
    window: input.channels?.[c]?.window ?? channelWindow(p),
  }));
  await writeImageGroup(store, input.name, levels, channels, o.pixelSize);
  const source = planesSource(input.planes, input.width, input.height);
  await writeBands(store, '', source, dtypeOf(input.planes[0]!), { ...o, levels, mode: 'mean', channelAxis: true });
  return levels;
}

/** Image planes from a MultiChannelImage (views, no copy). */
export function planesOf(image: MultiChannelImage): Float32Array[] {
  const n = image.width * image.height;
  return Array.from({ length: image.channels }, (_, c) => image.data.subarray(c * n, (c + 1) * n));
}

export interface LabelWriteOptions {
  /** Colour per label value (RGBA 0-255). */
  colors?: LabelColors;
  properties?: Array<Record<string, unknown>>;
}

/** Adds (or replaces) labels/<name> next to the image at the store root, in the smallest integer type that fits. */
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
  const Ctor = max < 256 ? Uint8Array : max < 65536 ? Uint16Array : Uint32Array;
  const data = Ctor.from(labels.data);
  const base = await writeLabelGroup(store, name, levels, o);
  const source = planesSource([data], labels.width, labels.height);
  await writeBands(store, base, source, dtypeOf(data), { chunk: o.chunk, levels, mode: 'nearest', channelAxis: false });
}

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
