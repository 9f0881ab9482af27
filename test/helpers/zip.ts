// Zip files for the zip reader's checks: good ones changed in one place, and small ones written by hand.

const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
const setU32 = (b: Uint8Array, at: number, v: number) => new DataView(b.buffer, b.byteOffset).setUint32(at, v, true);
const u16 = (b: Uint8Array, at: number) => b[at]! | (b[at + 1]! << 8);

/**
 * The central directory's entries of a zip without a comment: name, where its record is and
 * where its local header is (APPNOTE 4.3.12 and 4.3.7).
 */
export function directory(zip: Uint8Array): Array<{ name: string; central: number; local: number }> {
  const end = zip.length - 22;
  if (u32(zip, end) !== 0x06054b50) throw new Error('not a zip without a comment');
  const out = [];
  for (let i = 0, at = u32(zip, end + 16); i < u16(zip, end + 10); i++) {
    const nameLength = u16(zip, at + 28),
      rest = u16(zip, at + 30) + u16(zip, at + 32);
    const name = new TextDecoder().decode(zip.subarray(at + 46, at + 46 + nameLength));
    out.push({ name, central: at, local: u32(zip, at + 42) });
    at += 46 + nameLength + rest;
  }
  return out;
}

/** Where the entry's stored (compressed) bytes start, after its local header. */
export function dataStart(zip: Uint8Array, name: string): number {
  const entry = directory(zip).find((e) => e.name === name);
  if (!entry) throw new Error(`no ${name} in the zip`);
  return entry.local + 30 + u16(zip, entry.local + 26) + u16(zip, entry.local + 28);
}

/** A copy of the zip whose headers (local and central) declare `size` inflated bytes for the entry: a lie. */
export function declaring(zip: Uint8Array, name: string, size: number): Uint8Array {
  const out = zip.slice();
  const entry = directory(out).find((e) => e.name === name);
  if (!entry) throw new Error(`no ${name} in the zip`);
  setU32(out, entry.central + 24, size);
  setU32(out, entry.local + 22, size);
  return out;
}

/** CRC-32 a bit at a time (as APPNOTE 4.4.7 defines it), apart from the reader's own. */
export function slowCrc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** An entry of a zip written by hand. */
export interface HandEntry {
  name: string;
  /** The bytes as stored in the archive (deflated ones for method 8). */
  data: Uint8Array;
  /** 0 stored (the default), 8 deflated. */
  method?: number;
  /** The inflated size the headers declare (data's length unless given). */
  size?: number;
  /** The CRC-32 the headers give (data's unless given). */
  crc?: number;
  /** Sizes in the central record set to 0xffffffff: the zip64 marker that they are in the extra field. */
  zip64Sizes?: boolean;
  /** The central record's extra field (see zip64Extra). */
  extra?: Uint8Array;
  /** The central record's comment. */
  comment?: Uint8Array;
}

/** A zip64 extended information extra field (id 1) holding these 8-byte values. */
export function zip64Extra(...values: number[]): Uint8Array {
  const out = new Uint8Array(4 + 8 * values.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, 1, true);
  view.setUint16(2, 8 * values.length, true);
  values.forEach((v, i) => {
    view.setBigUint64(4 + 8 * i, BigInt(v), true);
  });
  return out;
}

/** An 8-byte little-endian number. */
export function u64Bytes(value: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value), true);
  return out;
}

/**
 * A zip of these entries, written field by field (APPNOTE 4.3). With `zip64End` it ends with a
 * zip64 end of central directory (and its locator) declaring `count` entries (the real number
 * unless given), the plain end record's count and offset set to their "see zip64" markers.
 */
export function handZip(entries: readonly HandEntry[], options: { zip64End?: { count?: number } } = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  let at = 0;
  const add = (bytes: Uint8Array) => {
    parts.push(bytes);
    at += bytes.length;
  };
  const record = (length: number, fill: (view: DataView) => void) => {
    const bytes = new Uint8Array(length);
    fill(new DataView(bytes.buffer));
    return bytes;
  };
  const locals: number[] = [];
  const names = entries.map((e) => new TextEncoder().encode(e.name));
  entries.forEach((e, i) => {
    locals.push(at);
    add(
      record(30, (v) => {
        v.setUint32(0, 0x04034b50, true);
        v.setUint16(4, 20, true);
        v.setUint16(6, 0x800, true); // names in UTF-8
        v.setUint16(8, e.method ?? 0, true);
        v.setUint32(14, e.crc ?? slowCrc32(e.data), true);
        v.setUint32(18, e.data.length, true);
        v.setUint32(22, e.size ?? e.data.length, true);
        v.setUint16(26, names[i]!.length, true);
      }),
    );
    add(names[i]!);
    add(e.data);
  });
  const directoryAt = at;
  entries.forEach((e, i) => {
    const extra = e.extra ?? new Uint8Array(0),
      comment = e.comment ?? new Uint8Array(0);
    add(
      record(46, (v) => {
        v.setUint32(0, 0x02014b50, true);
        v.setUint16(4, 45, true);
        v.setUint16(6, 45, true);
        v.setUint16(8, 0x800, true);
        v.setUint16(10, e.method ?? 0, true);
        v.setUint32(16, e.crc ?? slowCrc32(e.data), true);
        v.setUint32(20, e.zip64Sizes ? 0xffffffff : e.data.length, true);
        v.setUint32(24, e.zip64Sizes ? 0xffffffff : (e.size ?? e.data.length), true);
        v.setUint16(28, names[i]!.length, true);
        v.setUint16(30, extra.length, true);
        v.setUint16(32, comment.length, true);
        v.setUint32(42, locals[i]!, true);
      }),
    );
    add(names[i]!);
    add(extra);
    add(comment);
  });
  const directorySize = at - directoryAt;
  const zip64 = options.zip64End;
  if (zip64) {
    const end64 = at;
    add(
      record(56, (v) => {
        v.setUint32(0, 0x06064b50, true);
        v.setBigUint64(4, 44n, true);
        v.setUint16(12, 45, true);
        v.setUint16(14, 45, true);
        v.setBigUint64(24, BigInt(zip64.count ?? entries.length), true);
        v.setBigUint64(32, BigInt(zip64.count ?? entries.length), true);
        v.setBigUint64(40, BigInt(directorySize), true);
        v.setBigUint64(48, BigInt(directoryAt), true);
      }),
    );
    add(
      record(20, (v) => {
        v.setUint32(0, 0x07064b50, true);
        v.setBigUint64(8, BigInt(end64), true);
        v.setUint32(16, 1, true);
      }),
    );
  }
  add(
    record(22, (v) => {
      v.setUint32(0, 0x06054b50, true);
      v.setUint16(8, zip64 ? 0xffff : entries.length, true);
      v.setUint16(10, zip64 ? 0xffff : entries.length, true);
      v.setUint32(12, directorySize, true);
      v.setUint32(16, zip64 ? 0xffffffff : directoryAt, true);
    }),
  );
  const out = new Uint8Array(at);
  let p = 0;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}
