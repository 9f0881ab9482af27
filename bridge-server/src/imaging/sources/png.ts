import { InputError, type SourceDtype } from '@impartial/shared';
import { decode as decodePng } from 'fast-png';
import { checkImageSize, type ImportLimits, type OpenedSource } from './source.js';

/** Width, height and channels from a PNG's IHDR chunk, read before the decoder allocates anything. */
function pngHeader(bytes: Uint8Array, name: string): { width: number; height: number; channels: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const isIhdr = bytes.length >= 29 && String.fromCharCode(...bytes.subarray(12, 16)) === 'IHDR';
  if (!isIhdr) throw new InputError(`${name}: not a readable PNG (no IHDR chunk at its start)`);
  const colourType = bytes[25]!;
  const channels = colourType === 2 || colourType === 3 ? 3 : colourType === 6 ? 3 : 1;
  return { width: view.getUint32(16), height: view.getUint32(20), channels };
}

/** PNG: grey, grey+alpha, RGB, RGBA or palette; alpha is dropped, 16-bit kept. */
export function pngSource(bytes: Uint8Array, name: string, limits: ImportLimits): OpenedSource {
  checkImageSize(name, pngHeader(bytes, name), limits);
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
