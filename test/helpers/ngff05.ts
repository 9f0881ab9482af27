import FileSystemStore from '@zarrita/storage/fs';
import * as zarr from 'zarrita';

/**
 * Writes a small NGFF 0.5 image (Zarr v3: zarr.json documents, metadata under `ome`): two uint16
 * channels, two pyramid levels, a bright square in channel 0 and a gradient in channel 1. Our own
 * writer makes 0.4; viewers must read both.
 */
export async function writeNgff05(dir: string, size = 256): Promise<void> {
  const store = new FileSystemStore(dir);
  const root = zarr.root(store);
  const levels = [size, size / 2];
  await zarr.create(root, {
    attributes: {
      ome: {
        version: '0.5',
        multiscales: [
          {
            name: 'ngff-0.5',
            axes: [
              { name: 'c', type: 'channel' },
              { name: 'y', type: 'space', unit: 'micrometer' },
              { name: 'x', type: 'space', unit: 'micrometer' },
            ],
            datasets: levels.map((_, l) => ({
              path: String(l),
              coordinateTransformations: [{ type: 'scale', scale: [1, 2 ** l, 2 ** l] }],
            })),
          },
        ],
        omero: {
          channels: [
            { label: 'square', color: 'FF00FF', active: true, window: { start: 0, end: 4000, min: 0, max: 65535 } },
            { label: 'gradient', color: '00FF00', active: true, window: { start: 0, end: 4000, min: 0, max: 65535 } },
          ],
        },
      },
    },
  });
  for (const [l, n] of levels.entries()) {
    const arr = await zarr.create(root.resolve(String(l)), {
      shape: [2, n, n],
      chunkShape: [1, 64, 64],
      dtype: 'uint16',
      fillValue: 0,
      dimensionNames: ['c', 'y', 'x'],
      codecs: [{ name: 'bytes', configuration: { endian: 'little' } }],
    });
    const data = new Uint16Array(2 * n * n);
    for (let y = 0; y < n; y++)
      for (let x = 0; x < n; x++) {
        const inside = x > n / 4 && x < (3 * n) / 4 && y > n / 4 && y < (3 * n) / 4;
        data[y * n + x] = inside ? 4000 : 0;
        data[n * n + y * n + x] = Math.round((x / n) * 1500);
      }
    await zarr.set(arr, null, { data, shape: [2, n, n], stride: [n * n, n, 1] });
  }
}
