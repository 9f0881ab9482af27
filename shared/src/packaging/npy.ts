/*
 * NumPy's .npy format (version 1.0) for float32 arrays in C order: the test tensors of a
 * bioimage.io package.
 */

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

export interface NpyArray {
  shape: number[];
  data: Float32Array;
}

export function encodeNpy({ shape, data }: NpyArray): Uint8Array {
  if (shape.reduce((a, b) => a * b, 1) !== data.length) throw new Error(`shape ${shape} does not hold ${data.length}`);
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  // Magic (6) + version (2) + length (2) + header + newline is a multiple of 64.
  header += ' '.repeat(63 - ((10 + header.length) % 64));
  header += '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

/** Reads a little-endian float32 C-order .npy (version 1 or 2); anything else is refused by name. */
export function decodeNpy(bytes: Uint8Array): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new Error('not a .npy file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  if (descr !== '<f4') throw new Error(`.npy of ${descr ?? 'unknown type'}, not float32 ('<f4')`);
  if (/'fortran_order':\s*True/.test(header)) throw new Error('.npy in Fortran order');
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (shapeText === undefined) throw new Error('.npy header without a shape');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLength;
  if (bytes.length - offset !== 4 * n) throw new Error(`.npy data has ${bytes.length - offset} bytes, not ${4 * n}`);
  const data = new Float32Array(n);
  new Uint8Array(data.buffer).set(bytes.subarray(offset));
  return { shape, data };
}
