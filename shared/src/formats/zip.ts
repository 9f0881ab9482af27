import { strFromU8, UnzipInflate } from 'fflate';
import { InputError, LimitError } from '../errors.js';
import { crc32 } from './crc32.js';

/*
 * Reading a zip file someone sent, within limits: a few hundred kilobytes of zip can inflate to
 * gigabytes (a "zip bomb"), and the sizes a zip declares may lie. The central directory says
 * where each entry is (as unzipSync reads it; fflate's streaming Unzip instead scans for
 * signatures, which misreads an entry written as a stream whose data holds "PK\3\4"), and each
 * accepted entry is inflated through fflate's streaming UnzipInflate, its real bytes counted as
 * they come, stopping at a limit, and checked against the CRC-32 the directory gives.
 */

export interface ZipLimits {
  /**
   * Whether to read an entry (by its full name in the archive); the others are skipped, never
   * inflated. What it throws refuses the archive (readZip passes it on).
   */
  accept(name: string): boolean;
  /** Accepted entries at most. */
  maxEntries: number;
  /** Inflated bytes of one accepted entry at most. */
  maxEntryBytes: number;
  /** A lower cap for some entries, by name (maxEntryBytes still applies). */
  maxBytesOf?(name: string): number;
  /** Inflated bytes of all accepted entries together at most. */
  maxTotalBytes: number;
  /**
   * Entries of the central directory at most, accepted or not (MAX_DIRECTORY_ENTRIES unless
   * given): each costs a little to pass over, and a directory may list millions.
   */
  maxDirectoryEntries?: number;
  /** The archive as errors name it ("the ROI set", "the model upload"). */
  what: string;
}

/**
 * Directory entries of an archive at most unless the caller says. Every zip without zip64
 * structures passes (its count is 16 bits), which is room for readRoiZip's largest ROI set (10,000
 * ROIs) with a folder or a macOS "__MACOSX/._" entry beside each several times over. Passing over
 * this many takes some 20 ms, where a zip64 directory of millions would stall the event loop for seconds.
 */
const MAX_DIRECTORY_ENTRIES = 65_536;

/**
 * Compressed bytes given to an inflater at a time: one push inflates to at most ~1032 times as
 * many bytes (deflate's largest ratio) before the count can stop it, so 16 KiB bound what a bomb
 * makes past a limit to ~17 MB, while pushes stay few enough to be cheap.
 */
const PUSH_BYTES = 16 * 1024;

const END = 0x06054b50, // end of central directory ("PK\5\6")
  END64_LOCATOR = 0x07064b50,
  END64 = 0x06064b50,
  CENTRAL = 0x02014b50,
  LOCAL = 0x04034b50;
const STORED = 0,
  DEFLATED = 8;

interface Entry {
  name: string;
  method: number;
  compressedSize: number;
  /** The inflated size the archive declares (not trusted beyond refusing early). */
  declaredSize: number;
  /** The CRC-32 of the inflated bytes, as the directory gives it. */
  crc: number;
  localOffset: number;
}

/** Reads little-endian fields, an InputError naming the archive for any read past its end. */
function reader(bytes: Uint8Array, what: string) {
  const broken = (why: string) => new InputError(`${what} is not a readable zip file (${why})`);
  const check = (at: number, n: number) => {
    if (!(at >= 0 && at + n <= bytes.length)) throw broken('an entry or its directory lies outside the file');
  };
  const u16 = (at: number) => {
    check(at, 2);
    return bytes[at]! | (bytes[at + 1]! << 8);
  };
  const u32 = (at: number) => (u16(at) | (u16(at + 2) << 16)) >>> 0;
  const u64 = (at: number) => u32(at) + u32(at + 4) * 2 ** 32;
  return { broken, check, u16, u32, u64 };
}

/** The central directory's entries, in its order, one at a time (a directory may list millions). */
function* entriesOf(bytes: Uint8Array, what: string, maxEntries: number): Generator<Entry> {
  const { broken, check, u16, u32, u64 } = reader(bytes, what);
  // the end record is 22 bytes and a comment of at most 64 KiB; the last one counts (as for unzipSync)
  let end = bytes.length - 22;
  while (end >= 0 && u32(end) !== END) end = end > bytes.length - 22 - 0xffff ? end - 1 : -1;
  if (end < 0) throw broken('no end of central directory: not a zip, or cut short');
  let count = u16(end + 10),
    offset = u32(end + 16);
  if ((count === 0xffff || offset === 0xffffffff) && end >= 20 && u32(end - 20) === END64_LOCATOR) {
    const end64 = u64(end - 12);
    if (u32(end64) !== END64) throw broken('no zip64 end of central directory');
    count = u64(end64 + 32);
    offset = u64(end64 + 48);
  }
  // the count is where the scan stops, so refusing a large one up front bounds the scan
  if (count > maxEntries) {
    throw new LimitError(`${what}: its directory lists ${count} entries; at most ${maxEntries} in all`);
  }
  for (let i = 0, at = offset; i < count; i++) {
    if (u32(at) !== CENTRAL) throw broken(`directory entry ${i + 1} of ${count} is damaged`);
    const nameLength = u16(at + 28),
      extraLength = u16(at + 30);
    check(at + 46, nameLength + extraLength);
    const name = strFromU8(bytes.subarray(at + 46, at + 46 + nameLength), (u16(at + 8) & 0x800) === 0);
    const entry = {
      name,
      method: u16(at + 10),
      compressedSize: u32(at + 20),
      declaredSize: u32(at + 24),
      crc: u32(at + 16),
      localOffset: u32(at + 42),
    };
    // zip64: the fields set to 0xffffffff are in the extra field 1, in this order, within its size
    const extra = at + 46 + nameLength,
      extraEnd = extra + extraLength;
    for (let e = extra; e + 4 <= extraEnd; e += 4 + u16(e + 2)) {
      if (u16(e) !== 1) continue;
      const fieldEnd = Math.min(e + 4 + u16(e + 2), extraEnd);
      let field = e + 4;
      for (const key of ['declaredSize', 'compressedSize', 'localOffset'] as const) {
        if (entry[key] !== 0xffffffff) continue;
        if (field + 8 > fieldEnd) throw broken(`${name}: its zip64 extra field is too short`);
        entry[key] = u64(field);
        field += 8;
      }
    }
    at += 46 + nameLength + extraLength + u16(at + 32);
    yield entry;
  }
}

/**
 * The accepted entries of a zip file, by name, in the archive's order. Refuses with a LimitError
 * (naming the entry, its size and the limit) an entry whose declared or real inflated size is
 * over its cap, more accepted entries than maxEntries, more inflated bytes than maxTotalBytes,
 * or a directory of more entries than maxDirectoryEntries; a malformed zip is an InputError, as
 * is an entry that inflates past its declared size or whose CRC-32 does not match, or an
 * accepted name found twice.
 */
export function readZip(bytes: Uint8Array, limits: ZipLimits): Map<string, Uint8Array> {
  const { what } = limits;
  const { broken, check, u16, u32 } = reader(bytes, what);
  const files = new Map<string, Uint8Array>();
  let accepted = 0,
    total = 0;
  for (const entry of entriesOf(bytes, what, limits.maxDirectoryEntries ?? MAX_DIRECTORY_ENTRIES)) {
    const { name } = entry;
    if (!limits.accept(name)) continue;
    if (files.has(name)) throw new InputError(`${what} holds ${name} twice`);
    if (++accepted > limits.maxEntries) {
      throw new LimitError(`${what}: ${name} is one entry too many (at most ${limits.maxEntries})`);
    }
    const cap = Math.min(limits.maxEntryBytes, limits.maxBytesOf?.(name) ?? Infinity);
    const tooLarge = (size: string) => new LimitError(`${what}: ${name} is ${size} bytes; at most ${cap} an entry`);
    if (entry.declaredSize > cap) throw tooLarge(`${entry.declaredSize}`);
    const at = entry.localOffset;
    if (u32(at) !== LOCAL) throw broken(`${name}: no local header where the directory says`);
    const start = at + 30 + u16(at + 26) + u16(at + 28);
    check(start, entry.compressedSize);
    const data = bytes.subarray(start, start + entry.compressedSize);

    const chunks: Uint8Array[] = [];
    let size = 0,
      crc = 0,
      done = false,
      failure: Error | undefined;
    const take = (chunk: Uint8Array, final: boolean) => {
      size += chunk.length;
      total += chunk.length;
      // An honest entry inflates to exactly what it declares (at most its cap): stop a liar there.
      if (size > entry.declaredSize) {
        throw broken(`${name} inflates past the ${entry.declaredSize} bytes the directory declares`);
      }
      if (size > cap) throw tooLarge(`over ${cap}`);
      if (total > limits.maxTotalBytes) {
        throw new LimitError(
          `${what}: its entries inflate to over ${limits.maxTotalBytes} bytes (at ${name}); ` +
            `at most ${limits.maxTotalBytes} together`,
        );
      }
      if (chunk.length > 0) chunks.push(chunk);
      crc = crc32(chunk, crc);
      done = final;
    };
    if (entry.method === STORED) take(data, true);
    else if (entry.method === DEFLATED && data.length === 0) {
      // No deflate stream at all, which fflate reads as nothing without an error. A writer stores
      // an empty file as 2 bytes (03 00) or stored; no bytes are only an empty file if so declared.
      if (entry.declaredSize !== 0) throw broken(`${name} is cut short (no compressed bytes)`);
      take(data, true);
    } else if (entry.method === DEFLATED) {
      const inflater = new UnzipInflate();
      inflater.ondata = (error, chunk, final) => {
        if (failure) return;
        try {
          if (error) throw broken(`${name}: ${error.message}`);
          take(chunk, final);
        } catch (e) {
          failure = e as Error; // the inflater catches what its callback throws: stop pushing instead
        }
      };
      for (let p = 0; p < data.length && !failure; p += PUSH_BYTES) {
        inflater.push(data.subarray(p, p + PUSH_BYTES), p + PUSH_BYTES >= data.length);
      }
      if (failure) throw failure;
    } else throw broken(`${name}: compression method ${entry.method} (only stored and deflated are read)`);
    if (!done) throw broken(`${name} is cut short`);
    if (crc !== entry.crc) {
      const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
      throw broken(`${name} is damaged: its CRC-32 is ${hex(crc)}, the directory says ${hex(entry.crc)}`);
    }
    // a stored entry is copied out of the archive; an inflated one is already new bytes
    files.set(name, entry.method === STORED ? data.slice() : chunks.length === 1 ? chunks[0]! : concat(chunks, size));
  }
  return files;
}

function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
