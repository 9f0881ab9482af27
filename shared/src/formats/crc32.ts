/*
 * CRC-32 (ISO-HDLC: zip, gzip, PNG), reflected polynomial 0xEDB88320, computed in pieces. fflate
 * computes it but does not export it, and shared runs in browsers too (no node:zlib). Eight
 * tables, 8 bytes a step ("slicing-by-8"): about four times as fast as one table a byte, which
 * matters for a model's weights of a few hundred MB.
 */

const TABLES = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  // table k: the CRC of a byte followed by k zero bytes
  for (let k = 1; k < 8; k++) {
    for (let n = 0; n < 256; n++) {
      const c = t[(k - 1) * 256 + n]!;
      t[k * 256 + n] = (c >>> 8) ^ t[c & 255]!;
    }
  }
  return t;
})();

/**
 * The CRC-32 of `bytes`, continuing from `crc` (the CRC-32 of the bytes before them; 0 to start):
 * crc32(b, crc32(a)) is the CRC-32 of a followed by b. An unsigned 32-bit number.
 */
export function crc32(bytes: Uint8Array, crc = 0): number {
  const t = TABLES;
  let c = ~crc,
    i = 0;
  for (const last = bytes.length - 8; i <= last; i += 8) {
    const low = c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    c =
      t[1792 + (low & 255)]! ^
      t[1536 + ((low >>> 8) & 255)]! ^
      t[1280 + ((low >>> 16) & 255)]! ^
      t[1024 + (low >>> 24)]! ^
      t[768 + bytes[i + 4]!]! ^
      t[512 + bytes[i + 5]!]! ^
      t[256 + bytes[i + 6]!]! ^
      t[bytes[i + 7]!]!;
  }
  for (; i < bytes.length; i++) c = t[(c ^ bytes[i]!) & 255]! ^ (c >>> 8);
  return ~c >>> 0;
}
