import type * as zarr from 'zarrita';
import type { LabelImage, MultiChannelImage, PixelArray, RegionSource } from '../image/types.js';
import { type Dtype, downsamplePlane, dtypeOf, pyramidLevels, type WritableStore, writeRegion } from './ome-zarr.js';
import {
  type ChannelDisplay,
  CTOR,
  createLevels,
  DEFAULT_PYRAMID,
  type LabelColors,
  type Mode,
  type PyramidOptions,
  writeImageGroup,
  writeLabelGroup,
  ZARR_DTYPE,
} from './ome-zarr-metadata.js';

/*
 * The OME-Zarr pyramid writer (NGFF 0.4, Zarr v2), for level 0 arriving in bands of full rows
 * (imports, whole images in memory): each band is written and halved into the level below as it
 * comes, so no level is ever held whole. ome-zarr-rects.ts writes rectangles in any order.
 */

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
