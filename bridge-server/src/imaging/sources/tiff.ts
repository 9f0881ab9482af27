import { stat } from 'node:fs/promises';
import { ImpartialError, InputError, type PixelArray, type SourceDtype, tiffChannelPages } from '@impartial/shared';
import { fromFile, type GeoTIFF } from 'geotiff';
import { asDtype, type ImportLimits, type OpenedSource } from './source.js';

/** A TIFF holds at most this many pages the reader walks (OME-TIFF z/t stacks included). */
const MAX_PAGES = 100_000;

function sourceDtype(bits: number, format: number): SourceDtype {
  if (format === 3) return 'float32';
  return bits <= 8 ? 'uint8' : bits <= 16 ? 'uint16' : 'float32';
}

/**
 * A TIFF, OME-TIFF or ImageJ hyperstack read by byte ranges, so only the rows asked for are
 * decoded. Its header is checked against the file (pages, strips, size limit) when opened.
 */
export async function openTiffSource(file: string, limits: ImportLimits, name = file): Promise<OpenedSource> {
  const byteLength = (await stat(file)).size;
  let tiff: GeoTIFF;
  try {
    tiff = await fromFile(file);
  } catch (e) {
    throw new InputError(`${name}: not a readable TIFF (${(e as Error).message})`);
  }
  try {
    const checks = { byteLength, maxValues: limits.maxValues, maxPages: MAX_PAGES };
    const { images, layout, width, height } = await tiffChannelPages(tiff, name, checks);
    const first = images[0]!;
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
          const window = [0, y, width, y + rows];
          const rasters = (await im.readRasters({ window, interleave: false })) as unknown as ArrayLike<number>[];
          for (const r of rasters) out.push(asDtype(r, dtype));
        }
        return out;
      },
      async close() {
        void tiff.close?.();
      },
    };
  } catch (e) {
    void tiff.close?.();
    if (e instanceof ImpartialError) throw e;
    throw new InputError(`${name}: cannot decode TIFF data (${(e as Error).message})`);
  }
}
