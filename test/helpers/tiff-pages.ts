// Small TIFF pages (W x H) and a channel of a decoded image, for the TIFF reader and file tests.
import type { TiffPixels } from '@impartial/shared';

export const W = 5,
  H = 4,
  N = W * H;

export function plane<T extends TiffPixels>(ctor: new (n: number) => T, f: (i: number) => number): T {
  const out = new ctor(N);
  for (let i = 0; i < N; i++) out[i] = f(i);
  return out;
}

export function channel(img: { data: Float32Array; width: number; height: number }, c: number): number[] {
  const n = img.width * img.height;
  return Array.from(img.data.subarray(c * n, (c + 1) * n));
}
