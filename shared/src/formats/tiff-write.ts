/**
 * A baseline TIFF writer: uncompressed, one strip per page, one sample per pixel, either byte order,
 * uint8 / uint16 / uint32 / float32 pages, and an optional ImageDescription. Enough for ImageJ to
 * open what the bridge serves it (labels, probability, entropy, hyperstacks) by URL.
 */
export type TiffPixels = Uint8Array | Uint16Array | Uint32Array | Float32Array;

export interface TiffPage {
  width: number;
  height: number;
  data: TiffPixels;
  description?: string;
}

const SHORT = 3,
  LONG = 4,
  ASCII = 2;

interface Entry {
  tag: number;
  type: number;
  values: number[] | Uint8Array;
}

export function writeTiff(pages: readonly TiffPage[], littleEndian = true): Uint8Array {
  if (pages.length === 0) throw new Error('writeTiff needs at least one page');
  // layout: header | per page: IFD, description bytes, pixel bytes
  const plans = pages.map((p) => {
    if (p.data.length !== p.width * p.height)
      throw new Error(`page of ${p.width}x${p.height} has ${p.data.length} values`);
    const bytesPerSample = p.data.BYTES_PER_ELEMENT;
    const desc = p.description === undefined ? null : new TextEncoder().encode(`${p.description}\0`);
    const nTags = desc ? 12 : 11;
    return { p, bytesPerSample, desc, nTags, ifdSize: 2 + 12 * nTags + 4 };
  });
  let offset = 8;
  const placed = plans.map((plan) => {
    const ifd = offset;
    offset += plan.ifdSize;
    const descOffset = offset;
    if (plan.desc) offset += plan.desc.length + (plan.desc.length & 1);
    const pixels = offset;
    offset += plan.p.data.length * plan.bytesPerSample;
    offset += offset & 1; // word alignment
    return { ...plan, ifd, descOffset, pixels };
  });
  const out = new Uint8Array(offset);
  const v = new DataView(out.buffer);
  out[0] = out[1] = littleEndian ? 0x49 : 0x4d;
  v.setUint16(2, 42, littleEndian);
  v.setUint32(4, placed[0]!.ifd, littleEndian);
  placed.forEach((pl, k) => {
    const { p, bytesPerSample, desc } = pl;
    const sampleFormat = p.data instanceof Float32Array ? 3 : 1;
    const entries: Entry[] = [
      { tag: 256, type: LONG, values: [p.width] },
      { tag: 257, type: LONG, values: [p.height] },
      { tag: 258, type: SHORT, values: [8 * bytesPerSample] },
      { tag: 259, type: SHORT, values: [1] },
      { tag: 262, type: SHORT, values: [1] },
      ...(desc ? [{ tag: 270, type: ASCII, values: desc }] : []),
      { tag: 273, type: LONG, values: [pl.pixels] },
      { tag: 277, type: SHORT, values: [1] },
      { tag: 278, type: LONG, values: [p.height] },
      { tag: 279, type: LONG, values: [p.data.length * bytesPerSample] },
      { tag: 284, type: SHORT, values: [1] },
      { tag: 339, type: SHORT, values: [sampleFormat] },
    ];
    if (entries.length !== pl.nTags) throw new Error('tag count');
    let at = pl.ifd;
    v.setUint16(at, entries.length, littleEndian);
    at += 2;
    for (const e of entries) {
      v.setUint16(at, e.tag, littleEndian);
      v.setUint16(at + 2, e.type, littleEndian);
      v.setUint32(at + 4, e.values.length, littleEndian);
      if (e.type === ASCII) {
        const bytes = e.values as Uint8Array;
        if (bytes.length <= 4) out.set(bytes, at + 8);
        else {
          v.setUint32(at + 8, pl.descOffset, littleEndian);
          out.set(bytes, pl.descOffset);
        }
      } else if (e.type === SHORT) {
        v.setUint16(at + 8, (e.values as number[])[0]!, littleEndian);
      } else {
        v.setUint32(at + 8, (e.values as number[])[0]!, littleEndian);
      }
      at += 12;
    }
    const next = placed[k + 1];
    v.setUint32(at, next ? next.ifd : 0, littleEndian);
    for (let i = 0; i < p.data.length; i++) {
      const o = pl.pixels + i * bytesPerSample,
        x = p.data[i]!;
      if (p.data instanceof Float32Array) v.setFloat32(o, x, littleEndian);
      else if (p.data instanceof Uint16Array) v.setUint16(o, x, littleEndian);
      else if (p.data instanceof Uint32Array) v.setUint32(o, x, littleEndian);
      else v.setUint8(o, x);
    }
  });
  return out;
}

/** The bytes as a standalone ArrayBuffer (what readTiff takes). */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** Pages for an ImageJ hyperstack of `planes` channels (one z, one t), which ImageJ opens as a composite. */
export function imagejHyperstack(
  planes: readonly TiffPixels[],
  width: number,
  height: number,
  extra: Record<string, string | number> = {},
): TiffPage[] {
  const header = `${[
    `ImageJ=1.53t`,
    `images=${planes.length}`,
    `channels=${planes.length}`,
    'slices=1',
    'frames=1',
    'hyperstack=true',
    `mode=${planes.length > 1 ? 'composite' : 'grayscale'}`,
    ...Object.entries(extra).map(([k, v]) => `${k}=${v}`),
  ].join('\n')}\n`;
  return planes.map((data, c) => ({ width, height, data, ...(c === 0 ? { description: header } : {}) }));
}

/** Instance labels as a TIFF: 16-bit (ImageJ reads it as labels), or 32-bit float past 65535 cells. */
export function labelTiff(width: number, height: number, labels: ArrayLike<number>): Uint8Array {
  let max = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]! > max) max = labels[i]!;
  const data = max < 65536 ? Uint16Array.from(labels) : Float32Array.from(labels);
  return writeTiff([{ width, height, data }]);
}
