import * as zarr from 'zarrita';
import {
  type ChannelDisplay,
  CYX,
  createArray,
  type Dtype,
  downsamplePlane,
  dtypeOf,
  multiscales,
  PALETTE,
  type PixelArray,
  putJson,
  pyramidLevels,
  type ReadableStore,
  readJson,
  SPACE,
  type WritableStore,
} from './ome-zarr.js';

/*
 * OME-Zarr pyramids written and read by region, so an image never has to fit in memory: level 0
 * arrives in bands of rows, each full band is written and halved into the next level's pending
 * band, and so on down. Peak memory is about two bands per level.
 */

export type SourceDtype = 'uint8' | 'uint16' | 'float32';
const ZARR_DTYPE: Record<SourceDtype, Dtype> = { uint8: '|u1', uint16: '<u2', float32: '<f4' };
const CTOR: Record<SourceDtype, new (n: number) => PixelArray> = {
  uint8: Uint8Array,
  uint16: Uint16Array,
  float32: Float32Array,
};

/** Anything that can hand out full-width bands of rows, one plane per channel. */
export interface RegionSource {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly dtype: SourceDtype;
  readonly channelNames?: readonly string[];
  /** Rows [y, y + rows) of every channel, each plane rows x width. */
  readRows(y: number, rows: number): Promise<PixelArray[]>;
}

export interface StreamPyramidOptions {
  name: string;
  chunk?: number;
  channels?: ChannelDisplay[];
  pixelSize?: number;
  onProgress?: (rowsDone: number, rows: number) => void;
  signal?: AbortSignal;
}

/** Pending rows of one level; flushes a band of `chunk` rows at a time and feeds the next level. */
class LevelWriter {
  private pending: PixelArray[];
  private filled = 0;
  private written = 0;

  constructor(
    private readonly arr: zarr.Array<zarr.DataType, WritableStore>,
    readonly width: number,
    readonly height: number,
    private readonly chunk: number,
    private readonly planes: number,
    ctor: new (n: number) => PixelArray,
    private readonly mode: 'mean' | 'nearest',
    private readonly withChannelAxis: boolean,
    private readonly next: LevelWriter | null,
  ) {
    this.pending = Array.from({ length: planes }, () => new ctor(chunk * width));
  }

  async push(rows: PixelArray[], count: number): Promise<void> {
    let offset = 0;
    while (offset < count) {
      const take = Math.min(count - offset, this.chunk - this.filled);
      for (let c = 0; c < this.planes; c++)
        this.pending[c]!.set(
          rows[c]!.subarray(offset * this.width, (offset + take) * this.width),
          this.filled * this.width,
        );
      this.filled += take;
      offset += take;
      if (this.filled === this.chunk || this.written + this.filled === this.height) await this.flush();
    }
  }

  private async flush(): Promise<void> {
    const rows = this.filled,
      y = this.written;
    for (let c = 0; c < this.planes; c++) {
      const data = this.pending[c]!.subarray(0, rows * this.width);
      const sel = this.withChannelAxis ? [c, zarr.slice(y, y + rows), null] : [zarr.slice(y, y + rows), null];
      await zarr.set(this.arr, sel, { data, shape: [rows, this.width], stride: [this.width, 1] } as never);
    }
    if (this.next) {
      const halves = this.pending.map(
        (p) => downsamplePlane(p.subarray(0, rows * this.width) as PixelArray, this.width, rows, this.mode).data,
      );
      await this.next.push(halves, Math.ceil(rows / 2));
    }
    this.written += rows;
    this.filled = 0;
  }
}

async function levelWriters(
  store: WritableStore,
  path: string,
  width: number,
  height: number,
  planes: number,
  dtype: SourceDtype | Dtype,
  chunk: number,
  mode: 'mean' | 'nearest',
  withChannelAxis: boolean,
): Promise<LevelWriter> {
  const levels = pyramidLevels(width, height, chunk);
  const zdtype = (dtype in ZARR_DTYPE ? ZARR_DTYPE[dtype as SourceDtype] : dtype) as Dtype;
  const ctor =
    Object.values(CTOR).find((c) => dtypeOf(new c(0)) === zdtype) ?? (zdtype === '<u4' ? Uint32Array : Int32Array);
  const sizes: Array<[number, number]> = [];
  for (let l = 0, w = width, h = height; l < levels; l++, w = Math.ceil(w / 2), h = Math.ceil(h / 2))
    sizes.push([w, h]);
  let next: LevelWriter | null = null;
  for (let l = levels - 1; l >= 0; l--) {
    const [w, h] = sizes[l]!;
    const shape = withChannelAxis ? [planes, h, w] : [h, w];
    const chunks = withChannelAxis ? [1, chunk, chunk] : [chunk, chunk];
    const arr = await createArray(store, `${path}/${l}`, shape, chunks, zdtype);
    next = new LevelWriter(arr as never, w, h, chunk, planes, ctor, mode, withChannelAxis, next);
  }
  return next!;
}

/** Writes an NGFF 0.4 multiscale image at the store root from a source read band by band. Returns the level count. */
export async function writeOmeZarrFromSource(
  store: WritableStore,
  source: RegionSource,
  options: StreamPyramidOptions,
): Promise<number> {
  const chunk = options.chunk ?? 256;
  const levels = pyramidLevels(source.width, source.height, chunk);
  const range = source.dtype === 'uint8' ? 255 : source.dtype === 'uint16' ? 65535 : 1;
  const channels = Array.from({ length: source.channels }, (_, c) => {
    const given = options.channels?.[c];
    return {
      label: given?.name ?? source.channelNames?.[c] ?? `C${c}`,
      color: given?.color ?? PALETTE[c % PALETTE.length]!,
      active: c < 6,
      window: given?.window ?? { min: 0, max: range, start: 0, end: range },
    };
  });
  await putJson(store, '/.zgroup', { zarr_format: 2 });
  await putJson(store, '/.zattrs', {
    multiscales: multiscales(options.name, CYX, levels, options.pixelSize ?? 1),
    omero: { version: '0.4', name: options.name, rdefs: { model: 'color' }, channels },
  });
  const top = await levelWriters(
    store,
    '',
    source.width,
    source.height,
    source.channels,
    source.dtype,
    chunk,
    'mean',
    true,
  );
  for (let y = 0; y < source.height; y += chunk) {
    options.signal?.throwIfAborted();
    const rows = Math.min(chunk, source.height - y);
    await top.push(await source.readRows(y, rows), rows);
    options.onProgress?.(y + rows, source.height);
  }
  return levels;
}

/** Creates an empty labels/<name> pyramid (all chunks absent = 0) to be filled region by region. */
export async function createOmeZarrLabels(
  store: WritableStore,
  name: string,
  width: number,
  height: number,
  dtype: Dtype,
  chunk = 256,
  colors?: Array<{ 'label-value': number; rgba: [number, number, number, number] }>,
): Promise<number> {
  const levels = pyramidLevels(width, height, chunk);
  const existing = (await readJson(store as ReadableStore, '/labels/.zattrs')) as { labels?: string[] } | null;
  await putJson(store, '/labels/.zgroup', { zarr_format: 2 });
  await putJson(store, '/labels/.zattrs', { labels: [...new Set([...(existing?.labels ?? []), name])] });
  const base = `/labels/${name}`;
  await putJson(store, `${base}/.zgroup`, { zarr_format: 2 });
  await putJson(store, `${base}/.zattrs`, {
    multiscales: multiscales(name, SPACE, levels, 1),
    'image-label': { version: '0.4', source: { image: '../../' }, ...(colors ? { colors } : {}) },
  });
  for (let l = 0, w = width, h = height; l < levels; l++, w = Math.ceil(w / 2), h = Math.ceil(h / 2)) {
    await createArray(store, `${base}/${l}`, [h, w], [chunk, chunk], dtype);
  }
  return levels;
}

/** Creates an empty multi-channel image pyramid (all chunks absent = 0), filled later region by region. */
export async function createOmeZarrImage(
  store: WritableStore,
  name: string,
  width: number,
  height: number,
  channels: ChannelDisplay[],
  dtype: Dtype,
  chunk = 256,
): Promise<number> {
  const levels = pyramidLevels(width, height, chunk);
  await putJson(store, '/.zgroup', { zarr_format: 2 });
  await putJson(store, '/.zattrs', {
    multiscales: multiscales(name, CYX, levels, 1),
    omero: {
      version: '0.4',
      name,
      rdefs: { model: 'color' },
      channels: channels.map((c, i) => ({
        label: c.name,
        color: c.color ?? PALETTE[i % PALETTE.length]!,
        active: true,
        window: c.window ?? { min: 0, max: 1, start: 0, end: 1 },
      })),
    },
  });
  for (let l = 0, w = width, h = height; l < levels; l++, w = Math.ceil(w / 2), h = Math.ceil(h / 2)) {
    await createArray(store, `/${l}`, [channels.length, h, w], [1, chunk, chunk], dtype);
  }
  return levels;
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
