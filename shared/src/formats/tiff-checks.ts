import type { GeoTIFF, GeoTIFFImage } from 'geotiff';
import { InputError, LimitError } from '../errors.js';

/*
 * What a TIFF's header promises, checked against the bytes the file holds before any pixel is
 * read or allocated: a page chain that ends, strips and tiles inside the file and big enough for
 * their pixels, and a size under the caller's limit.
 */

export interface TiffLimits {
  /** Byte length of the whole file (strips and tiles must lie inside it). */
  byteLength: number;
  /** width x height x channels the caller will take. */
  maxValues: number;
  /** Pages walked at most (OME-TIFF stacks with z and t have many). */
  maxPages: number;
}

/** A TIFF whose structure this reader cannot use, with what is wrong and where (page, strip). */
export class TiffFormatError extends InputError {
  override name = 'TiffFormatError';
}

interface ChainLink {
  fileDirectory: { nextIFDByteOffset: number };
}

/** Every page of the file, walking the IFD chain with a visited set (a chain that loops is refused). */
export async function tiffPages(tiff: GeoTIFF, name: string, limits: TiffLimits): Promise<GeoTIFFImage[]> {
  const pages: GeoTIFFImage[] = [];
  const seen = new Set<number>([(tiff as unknown as { firstIFDOffset: number }).firstIFDOffset]);
  for (;;) {
    const page = await tiff.getImage(pages.length).catch((e: Error) => {
      const why = e instanceof RangeError ? 'the file is truncated or corrupt' : e.message;
      throw new TiffFormatError(`${name}: page ${pages.length}'s header cannot be read (${why})`);
    });
    pages.push(page);
    const next = (page as unknown as ChainLink).fileDirectory.nextIFDByteOffset;
    if (!next) return pages;
    if (next >= limits.byteLength) {
      throw new TiffFormatError(
        `${name}: page ${pages.length - 1} points to a next page at byte ${next}, past the end of the file ` +
          `(${limits.byteLength} bytes): the file is truncated`,
      );
    }
    if (seen.has(next)) throw new TiffFormatError(`${name}: the page chain loops back at page ${pages.length}`);
    if (pages.length >= limits.maxPages) {
      throw new LimitError(`${name}: more than ${limits.maxPages} pages; this reader takes at most ${limits.maxPages}`);
    }
    seen.add(next);
  }
}

/** The image's size against the caller's limit, before anything is allocated. */
export function checkTiffSize(name: string, width: number, height: number, channels: number, limits: TiffLimits): void {
  const values = width * height * channels;
  if (!(width > 0 && height > 0)) throw new TiffFormatError(`${name}: the first page is ${width} x ${height} pixels`);
  if (values > limits.maxValues) {
    const mpx = (n: number) => `${Math.round(n / 1e6).toLocaleString('en')} megapixels`;
    throw new LimitError(
      `${name}: ${width} x ${height} x ${channels} channels is ${mpx(values)}, over the limit of ` +
        `${mpx(limits.maxValues)} (whole slides are best imported as OME-Zarr)`,
    );
  }
}

const asNumbers = (v: unknown): number[] =>
  v === undefined || v === null
    ? []
    : Array.isArray(v) || ArrayBuffer.isView(v)
      ? Array.from(v as ArrayLike<number>, Number)
      : [Number(v)];

/**
 * Strips (or tiles) of one page: as many as its size needs, each inside the file, and, when
 * uncompressed, holding at least the bytes of its pixels.
 */
export async function checkTiffChunks(
  image: GeoTIFFImage,
  page: number,
  name: string,
  limits: TiffLimits,
): Promise<void> {
  const tiled = image.isTiled;
  const what = tiled ? 'tile' : 'strip';
  const ifd = image.fileDirectory;
  let offsets: number[], counts: number[];
  try {
    offsets = asNumbers(await ifd.loadValue(tiled ? 'TileOffsets' : 'StripOffsets'));
    counts = asNumbers(await ifd.loadValue(tiled ? 'TileByteCounts' : 'StripByteCounts'));
  } catch (e) {
    throw new TiffFormatError(`${name}: page ${page}'s ${what} table cannot be read (${(e as Error).message})`);
  }
  const width = image.getWidth(),
    height = image.getHeight(),
    samples = image.getSamplesPerPixel();
  const planar = Number(ifd.getValue('PlanarConfiguration') ?? 1) === 2;
  const bytesPerSample = Math.ceil(image.getBitsPerSample() / 8);
  const tileWidth = tiled ? image.getTileWidth() : width;
  const rows = tiled ? image.getTileHeight() : Math.min(height, image.getTileHeight());
  const across = Math.ceil(width / tileWidth),
    down = Math.ceil(height / rows);
  const expected = across * down * (planar ? samples : 1);
  if (offsets.length < expected || counts.length < offsets.length) {
    throw new TiffFormatError(
      `${name}: page ${page} is ${width} x ${height} and needs ${expected} ${what}s; ` +
        `its header lists ${offsets.length} offsets and ${counts.length} byte counts`,
    );
  }
  const uncompressed = Number(ifd.getValue('Compression') ?? 1) === 1;
  for (let k = 0; k < expected; k++) {
    const start = offsets[k]!,
      length = counts[k]!;
    if (start + length > limits.byteLength) {
      throw new TiffFormatError(
        `${name}: page ${page} ${what} ${k} (bytes ${start}-${start + length}) runs past the end of the file ` +
          `(${limits.byteLength} bytes): the file is truncated`,
      );
    }
    if (!uncompressed) continue;
    const row = Math.floor((k % (across * down)) / across);
    const chunkRows = tiled ? rows : Math.min(rows, height - row * rows);
    const need = tileWidth * chunkRows * bytesPerSample * (planar ? 1 : samples);
    if (length < need) {
      throw new TiffFormatError(
        `${name}: page ${page} ${what} ${k} holds ${length} bytes but its ${tileWidth} x ${chunkRows} pixels ` +
          `need ${need}: the file is truncated or its header is wrong`,
      );
    }
  }
}
