import { readFile, stat } from 'node:fs/promises';
import { type PixelArray, type RegionSource, type SourceDtype, tiffChannelPages } from '@impartial/shared';
import { FileSystemStore, InputError } from '@impartial/shared/node';
import FetchStore from '@zarrita/storage/fetch';
import { decode as decodePng } from 'fast-png';
import { fromFile, type GeoTIFF } from 'geotiff';
import * as zarr from 'zarrita';

/*
 * Image files as band-by-band sources for the streaming OME-Zarr writer: TIFF (read by byte
 * ranges, so only the rows asked for are decoded), OME-Zarr (folder or http(s) URL), PNG.
 */

export interface OpenedSource extends RegionSource {
  close(): Promise<void>;
}

function sourceDtype(bits: number, format: number): SourceDtype {
  if (format === 3) return 'float32';
  return bits <= 8 ? 'uint8' : bits <= 16 ? 'uint16' : 'float32';
}

/** Copies into the source's dtype (geotiff returns the file's own type; int/uint32 become float32). */
function asDtype(plane: ArrayLike<number>, dtype: SourceDtype): PixelArray {
  if (dtype === 'uint8' && plane instanceof Uint8Array) return plane;
  if (dtype === 'uint16' && plane instanceof Uint16Array) return plane;
  if (dtype === 'float32' && plane instanceof Float32Array) return plane;
  const Ctor = dtype === 'uint8' ? Uint8Array : dtype === 'uint16' ? Uint16Array : Float32Array;
  return Ctor.from(plane as ArrayLike<number>);
}

export async function openTiffSource(file: string): Promise<OpenedSource> {
  let tiff: GeoTIFF;
  try {
    tiff = await fromFile(file);
  } catch (e) {
    throw new InputError(`${file}: not a readable TIFF (${(e as Error).message})`);
  }
  try {
    const { images, layout } = await tiffChannelPages(tiff, file);
    const first = images[0]!,
      width = first.getWidth(),
      height = first.getHeight();
    const samples = images.reduce((s, im) => s + im.getSamplesPerPixel(), 0);
    const dtype = sourceDtype(first.getBitsPerSample(), Number(first.getSampleFormat() ?? 1));
    const names = layout.names && layout.names.length === samples ? layout.names : undefined;
    return {
      width,
      height,
      channels: samples,
      dtype,
      ...(names ? { channelNames: names } : {}),
      async readRows(y, rows) {
        const out: PixelArray[] = [];
        for (const im of images) {
          const rasters = (await im.readRasters({
            window: [0, y, width, y + rows],
            interleave: false,
          })) as unknown as ArrayLike<number>[];
          for (const r of rasters) out.push(asDtype(r, dtype));
        }
        return out;
      },
      async close() {
        tiff.close?.();
      },
    };
  } catch (e) {
    tiff.close?.();
    throw e instanceof InputError
      ? e
      : new InputError(
          e instanceof Error && e.name === 'TiffFormatError'
            ? e.message
            : `${file}: cannot decode TIFF data (${(e as Error).message})`,
        );
  }
}

/** PNG: grey, grey+alpha, RGB, RGBA or palette; alpha is dropped, 16-bit kept. */
export function pngSource(bytes: Uint8Array, name: string): OpenedSource {
  let png: ReturnType<typeof decodePng>;
  try {
    png = decodePng(bytes);
  } catch (e) {
    throw new InputError(`${name}: not a readable PNG (${(e as Error).message})`);
  }
  const { width, height } = png;
  let data = png.data as ArrayLike<number>,
    stride = png.channels;
  if (png.palette) {
    const rgb = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) {
      const c = png.palette[(data as Uint8Array)[i]!] ?? [0, 0, 0];
      rgb.set(c.slice(0, 3), i * 3);
    }
    data = rgb;
    stride = 3;
  }
  const channels = stride === 2 ? 1 : stride === 4 ? 3 : stride;
  const dtype: SourceDtype = png.depth === 16 ? 'uint16' : 'uint8';
  return {
    width,
    height,
    channels,
    dtype,
    channelNames: channels === 3 ? ['red', 'green', 'blue'] : ['grey'],
    async readRows(y, rows) {
      return Array.from({ length: channels }, (_, c) => {
        const plane = dtype === 'uint16' ? new Uint16Array(rows * width) : new Uint8Array(rows * width);
        for (let i = 0; i < rows * width; i++) plane[i] = data[(y * width + i) * stride + c]!;
        return plane;
      });
    },
    async close() {},
  };
}

const ZARR_DTYPES: Record<string, SourceDtype> = { uint8: 'uint8', uint16: 'uint16', float32: 'float32' };

/** Level 0 of an OME-Zarr image (NGFF 0.4 or 0.5 axes; t and z at index 0), folder or http(s) URL. */
export async function openOmeZarrSource(location: string, headers?: Record<string, string>): Promise<OpenedSource> {
  const isUrl = /^https?:\/\//i.test(location);
  const store = isUrl
    ? new FetchStore(location, headers ? { overrides: { headers } } : {})
    : new FileSystemStore(location);
  try {
    const group = await zarr.open(zarr.root(store as zarr.Readable), { kind: 'group' });
    const attrs = group.attrs as {
      multiscales?: Array<{ axes?: Array<{ name: string } | string>; datasets: Array<{ path: string }> }>;
      ome?: { multiscales?: unknown[] };
      omero?: { channels?: Array<{ label?: string }> };
    };
    const ms = (attrs.multiscales ?? attrs.ome?.multiscales)?.[0] as
      | { axes?: Array<{ name: string } | string>; datasets: Array<{ path: string }> }
      | undefined;
    if (!ms) throw new Error('no multiscales in the group attributes');
    const arr = await zarr.open(group.resolve(ms.datasets[0]!.path), { kind: 'array' });
    const axes = (ms.axes ?? ['t', 'c', 'z', 'y', 'x'].slice(5 - arr.shape.length)).map((a) =>
      typeof a === 'string' ? a : a.name,
    );
    const ci = axes.indexOf('c');
    const height = arr.shape[axes.indexOf('y')]!,
      width = arr.shape[axes.indexOf('x')]!;
    const channels = ci >= 0 ? arr.shape[ci]! : 1;
    const dtype = ZARR_DTYPES[arr.dtype] ?? 'float32';
    const names = (attrs.omero?.channels ?? []).map((c, i) => c.label ?? `C${i}`);
    return {
      width,
      height,
      channels,
      dtype,
      ...(names.length === channels ? { channelNames: names } : {}),
      async readRows(y, rows) {
        const out: PixelArray[] = [];
        for (let c = 0; c < channels; c++) {
          const sel = axes.map((a, i) => (i === ci ? c : a === 'y' ? zarr.slice(y, y + rows) : a === 'x' ? null : 0));
          const got = (await zarr.get(arr, sel)) as { data: ArrayLike<number> };
          out.push(asDtype(got.data, dtype));
        }
        return out;
      },
      async close() {},
    };
  } catch (e) {
    throw new InputError(`${location}: not a readable OME-Zarr image (${(e as Error).message})`);
  }
}

/** Opens a local file or folder by what it is: an OME-Zarr folder, a TIFF, or a PNG. */
export async function openSourcePath(file: string): Promise<OpenedSource> {
  const info = await stat(file).catch(() => null);
  if (!info) throw new InputError(`${file}: no such file or folder`);
  if (info.isDirectory()) return openOmeZarrSource(file);
  if (/\.tiff?$/i.test(file)) return openTiffSource(file);
  if (/\.png$/i.test(file)) return pngSource(new Uint8Array(await readFile(file)), file);
  throw new InputError(`${file}: unsupported image type (expected an OME-Zarr folder, .tif, .tiff, .ome.tif or .png)`);
}

/** An image already in memory (float32 planes), e.g. a generated one. */
export function memorySource(image: {
  width: number;
  height: number;
  channels: number;
  data: Float32Array;
  channelNames?: readonly string[];
}): OpenedSource {
  const n = image.width * image.height;
  return {
    width: image.width,
    height: image.height,
    channels: image.channels,
    dtype: 'float32',
    ...(image.channelNames ? { channelNames: image.channelNames } : {}),
    async readRows(y, rows) {
      return Array.from({ length: image.channels }, (_, c) =>
        image.data.slice(c * n + y * image.width, c * n + (y + rows) * image.width),
      );
    },
    async close() {},
  };
}
