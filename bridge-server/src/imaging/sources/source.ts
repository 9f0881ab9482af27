import type { PixelArray, RegionSource, SourceDtype } from '@impartial/shared';
import { LimitError } from '@impartial/shared';
import { DEFAULT_URL_POLICY, type UrlPolicy } from './guarded-fetch.js';

/** A band-by-band image source for the pyramid writer, with a close for files it holds open. */
export interface OpenedSource extends RegionSource {
  close(): Promise<void>;
}

/** What an import may be: width x height x channels at most (checked before anything is allocated)... */
export interface ImportLimits {
  maxValues: number;
  /** ...and, for a URL, which hosts it may reach and how much it may read. */
  url: UrlPolicy;
}

/** Default for `--max-image-mpx`: 4000 megapixels (a 20000 x 20000 x 8-channel slide is 3200). */
export const DEFAULT_IMPORT_LIMITS: ImportLimits = { maxValues: 4000e6, url: DEFAULT_URL_POLICY };

/** Refuses an image larger than the limit, naming its size and the limit. */
export function checkImageSize(
  name: string,
  size: { width: number; height: number; channels: number },
  limits: ImportLimits,
): void {
  const values = size.width * size.height * size.channels;
  if (values <= limits.maxValues) return;
  const mpx = (n: number) => `${Math.round(n / 1e6).toLocaleString('en')} megapixels`;
  throw new LimitError(
    `${name}: ${size.width} x ${size.height} x ${size.channels} channels is ${mpx(values)}, ` +
      `over the limit of ${mpx(limits.maxValues)} (--max-image-mpx)`,
  );
}

/** Copies into the source's dtype (decoders return the file's own type; int/uint32 become float32). */
export function asDtype(plane: ArrayLike<number>, dtype: SourceDtype): PixelArray {
  if (dtype === 'uint8' && plane instanceof Uint8Array) return plane;
  if (dtype === 'uint16' && plane instanceof Uint16Array) return plane;
  if (dtype === 'float32' && plane instanceof Float32Array) return plane;
  const Ctor = dtype === 'uint8' ? Uint8Array : dtype === 'uint16' ? Uint16Array : Float32Array;
  return Ctor.from(plane as ArrayLike<number>);
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
