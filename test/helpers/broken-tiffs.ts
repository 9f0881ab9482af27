// TIFFs with one thing wrong in their header, made from good ones, for the reader's checks.
import { writeTiff } from '@impartial/shared';

/** A one-page 64 x 48 uint16 TIFF (one strip). */
export const onePage = () => writeTiff([{ width: 64, height: 48, data: new Uint16Array(64 * 48).fill(500) }]);

/** Byte offset of the first page's entry for `tag`, and the view to change it with. */
function entryOf(bytes: Uint8Array, tag: number): { view: DataView; entry: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ifd = view.getUint32(4, true);
  for (let i = 0; i < view.getUint16(ifd, true); i++) {
    const entry = ifd + 2 + 12 * i;
    if (view.getUint16(entry, true) === tag) return { view, entry };
  }
  throw new Error(`tag ${tag} is not in the first page`);
}

/** A copy of a (little-endian) TIFF with tag `tag` of its first page set to `value` (a SHORT or LONG field). */
export function withTag(tiff: Uint8Array, tag: number, value: number): Uint8Array {
  const bytes = tiff.slice();
  const { view, entry } = entryOf(bytes, tag);
  if (view.getUint16(entry + 2, true) === 3) view.setUint16(entry + 8, value, true);
  else view.setUint32(entry + 8, value, true);
  return bytes;
}

/** A copy whose first page's next-page offset is `offset` (its own offset: a chain that loops). */
export function withNextPage(tiff: Uint8Array, offset?: number): Uint8Array {
  const bytes = tiff.slice();
  const view = new DataView(bytes.buffer);
  const ifd = view.getUint32(4, true);
  view.setUint32(ifd + 2 + 12 * view.getUint16(ifd, true), offset ?? ifd, true);
  return bytes;
}

export const TAG = { width: 256, height: 257, stripOffsets: 273, rowsPerStrip: 278, stripByteCounts: 279 };
