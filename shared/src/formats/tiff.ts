import { fromArrayBuffer, type GeoTIFF, type GeoTIFFImage } from 'geotiff';
import { ImpartialError } from '../errors.js';
import type { MultiChannelImage } from '../image/types.js';
import { checkTiffChunks, checkTiffSize, TiffFormatError, type TiffLimits, tiffPages } from './tiff-checks.js';

/** What readTiff takes by default: it holds the whole image as float32, so 2^30 values is 4 GiB. */
export const READ_TIFF_LIMITS = { maxValues: 2 ** 30, maxPages: 100_000 };

/** Which TIFF pages hold the channels of the first z-slice / time point, and their names. */
export interface ChannelLayout {
  pages: number[];
  names?: string[];
  source: 'ome' | 'imagej' | 'pages';
}

/** The channel pages of an OME-TIFF from its OME-XML (first z and t). */
export function omeChannelLayout(xml: string): ChannelLayout | null {
  const pixels = /<(?:\w+:)?Pixels\b([^>]*)>/.exec(xml);
  if (!pixels) return null;
  const attr = (name: string) => new RegExp(`\\b${name}="([^"]*)"`).exec(pixels[1]!)?.[1];
  const C = Number(attr('SizeC') ?? 1),
    Z = Number(attr('SizeZ') ?? 1),
    T = Number(attr('SizeT') ?? 1);
  const order = attr('DimensionOrder') ?? 'XYCZT';
  const size: Record<string, number> = { C, Z, T };
  const names = [...xml.matchAll(/<(?:\w+:)?Channel\b([^>]*?)\/?>/g)].map(
    (m, i) => /\bName="([^"]*)"/.exec(m[1]!)?.[1] ?? `C${i}`,
  );
  // Page index of (c, z=0, t=0): c times the sizes of the dimensions that vary faster than C.
  const faster = order.slice(2, order.indexOf('C')).split('');
  const pageOf = (c: number) => c * faster.reduce((s, d) => s * (size[d] ?? 1), 1);
  const samples = Number(/\bSamplesPerPixel="(\d+)"/.exec(xml)?.[1] ?? 1);
  const pageChannels = samples > 1 ? 1 : C;
  return {
    pages: Array.from({ length: pageChannels }, (_, c) => pageOf(c)),
    ...(names.length === C ? { names } : {}),
    source: 'ome',
  };
}

/** The channel pages of an ImageJ hyperstack from its description ("images=, channels=, slices=, frames="). */
export function imagejChannelLayout(description: string): ChannelLayout | null {
  if (!description.startsWith('ImageJ=')) return null;
  const get = (key: string) => Number(new RegExp(`^${key}=(\\d+)`, 'm').exec(description)?.[1] ?? 0);
  const channels = get('channels') || 1;
  return { pages: Array.from({ length: channels }, (_, c) => c), source: 'imagej' };
}

async function description(image: GeoTIFFImage): Promise<string> {
  const d = await image.getFileDirectory().loadValue('ImageDescription');
  return typeof d === 'string' ? d : '';
}

/**
 * Which pages of an open TIFF hold the channels (first z, first t), checked against the page
 * count, the caller's size limit and the bytes of the file before any pixel is read.
 */
export async function tiffChannelPages(
  tiff: GeoTIFF,
  name: string,
  limits: TiffLimits,
): Promise<{ images: GeoTIFFImage[]; layout: ChannelLayout; width: number; height: number; count: number }> {
  const all = await tiffPages(tiff, name, limits);
  const count = all.length;
  const first = all[0]!;
  const width = first.getWidth(),
    height = first.getHeight();
  const desc = await description(first);
  let layout = omeChannelLayout(desc) ?? imagejChannelLayout(desc);
  if (!layout) {
    const pages: number[] = [];
    for (let i = 0; i < count; i++) {
      const img = all[i]!;
      if (img.getWidth() === width && img.getHeight() === height) pages.push(i);
    }
    layout = { pages, source: 'pages' };
  }
  if (layout.pages.some((p) => p >= count))
    throw new TiffFormatError(
      `${name}: metadata names ${layout.pages.length} channels but the file has ${count} pages`,
    );
  const images = layout.pages.map((p) => all[p]!);
  const bad = images.findIndex((img) => img.getWidth() !== width || img.getHeight() !== height);
  if (bad >= 0) {
    const badSize = `${images[bad]!.getWidth()}x${images[bad]!.getHeight()}`;
    throw new TiffFormatError(`${name}: page ${layout.pages[bad]} is ${badSize}, page 0 is ${width}x${height}`);
  }
  const channels = images.reduce((sum, image) => sum + image.getSamplesPerPixel(), 0);
  checkTiffSize(name, width, height, channels, limits);
  for (const [k, image] of images.entries()) await checkTiffChunks(image, layout.pages[k]!, name, limits);
  return { images, layout, width, height, count };
}

/**
 * Reads a TIFF as a multi-channel image: an OME-TIFF (channels from the OME-XML), an ImageJ
 * hyperstack (channels of the first slice/frame), an RGB/multi-sample page, or a plain multi-page
 * TIFF (every page with the first page's size is a channel). Any byte order; uint8/16/32, float32.
 */
export async function readTiff(
  buffer: ArrayBuffer,
  name = 'image.tif',
  warn: (m: string) => void = () => {},
): Promise<MultiChannelImage> {
  let tiff: GeoTIFF;
  try {
    tiff = await fromArrayBuffer(buffer);
  } catch (e) {
    throw new TiffFormatError(`${name}: not a readable TIFF (${(e as Error).message})`);
  }
  try {
    const limits = { ...READ_TIFF_LIMITS, byteLength: buffer.byteLength };
    const { images, layout, width, height, count } = await tiffChannelPages(tiff, name, limits);
    if (layout.source === 'imagej' && count > layout.pages.length)
      warn(`${name}: hyperstack with slices or frames; using the first slice and frame`);
    const planes: ArrayLike<number>[] = [];
    for (const img of images) {
      const rasters = (await img.readRasters({ interleave: false })) as unknown as ArrayLike<number>[];
      for (const r of rasters) planes.push(r);
    }
    const n = width * height;
    const data = new Float32Array(planes.length * n);
    planes.forEach((plane, c) => {
      if (plane.length !== n)
        throw new TiffFormatError(`${name}: channel ${c} has ${plane.length} values, expected ${n}`);
      for (let i = 0; i < n; i++) data[c * n + i] = plane[i]!;
    });
    const names = layout.names && layout.names.length === planes.length ? layout.names : undefined;
    return { width, height, channels: planes.length, data, ...(names ? { channelNames: names } : {}) };
  } catch (e) {
    if (e instanceof ImpartialError) throw e;
    throw new TiffFormatError(`${name}: cannot decode TIFF data (${(e as Error).message})`);
  } finally {
    tiff.close?.();
  }
}

/** Reads a single-channel integer TIFF as labels (e.g. instance or scribble label images). */
export async function readLabelTiff(
  buffer: ArrayBuffer,
  name = 'labels.tif',
): Promise<{ width: number; height: number; data: Int32Array }> {
  const img = await readTiff(buffer, name);
  if (img.channels !== 1)
    throw new TiffFormatError(`${name}: a label image must have 1 channel, it has ${img.channels}`);
  const data = new Int32Array(img.data.length);
  for (let i = 0; i < data.length; i++) {
    const v = img.data[i]!;
    if (v < 0 || !Number.isInteger(v))
      throw new TiffFormatError(`${name}: label images hold non-negative integers; found ${v}`);
    data[i] = v;
  }
  return { width: img.width, height: img.height, data };
}
