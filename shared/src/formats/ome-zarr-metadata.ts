import type { PixelArray, SourceDtype } from '../image/types.js';
import {
  CYX,
  createArray,
  type Dtype,
  multiscales,
  putJson,
  type ReadableStore,
  readJson,
  SPACE,
  type WritableStore,
} from './ome-zarr.js';

/* The metadata and empty level arrays of NGFF 0.4 image and label groups, for the pyramid writers. */

export interface ChannelDisplay {
  name: string;
  color?: string;
  window?: { min: number; max: number; start: number; end: number };
}

export const PALETTE = ['0000FF', '00FF00', 'FF0000', 'FFFF00', 'FF00FF', '00FFFF', 'FFFFFF', 'FF8000'];

export type LabelColors = Array<{ 'label-value': number; rgba: [number, number, number, number] }>;

export interface PyramidOptions {
  /** Chunk edge in pixels. */
  chunk: number;
  /** Level count (default: halve until the coarsest level fits one chunk). */
  levels?: number;
  /** Physical pixel size of level 0 in micrometres (1 when unknown). */
  pixelSize?: number;
}

export const DEFAULT_PYRAMID: PyramidOptions = { chunk: 256 };

export type Mode = 'mean' | 'nearest';

export const ZARR_DTYPE: Record<SourceDtype, Dtype> = { uint8: '|u1', uint16: '<u2', float32: '<f4' };
export const CTOR: Record<Dtype, new (n: number) => PixelArray> = {
  '|u1': Uint8Array,
  '<u2': Uint16Array,
  '<f4': Float32Array,
  '<i4': Int32Array,
  '<u4': Uint32Array,
};

/** The image group's metadata: multiscales and omero channels. */
export async function writeImageGroup(
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
export async function writeLabelGroup(
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
export async function createLevels(
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
