// Tests of shared/src/formats/ome-zarr-write.ts: the band writer (writeOmeZarrFromSource) against the whole image.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  openArray,
  planesOf,
  readOmeZarrImage,
  readRegion,
  syntheticCells,
  writeOmeZarrFromSource,
  writeOmeZarrImage,
} from '@impartial/shared';
import { FileSystemStore } from '@impartial/shared/node';

describe('streamed OME-Zarr writing', () => {
  it('writes the same pyramid band by band as all at once', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'impartial-stream-'));
    try {
      const { image } = syntheticCells({ width: 300, height: 517, channels: 3, seed: 2 });
      const whole = new FileSystemStore(path.join(dir, 'whole'));
      await writeOmeZarrImage(whole, { width: 300, height: 517, planes: planesOf(image), name: 'x' }, { chunk: 64 });
      const n = 300 * 517;
      let bands = 0;
      const streamed = new FileSystemStore(path.join(dir, 'streamed'));
      const levels = await writeOmeZarrFromSource(
        streamed,
        {
          width: 300,
          height: 517,
          channels: 3,
          dtype: 'float32',
          async readRows(y, rows) {
            bands++;
            return [0, 1, 2].map((c) => image.data.slice(c * n + y * 300, c * n + (y + rows) * 300));
          },
        },
        { name: 'x', chunk: 64 },
      );
      assert.equal(levels, 5);
      assert.equal(bands, Math.ceil(517 / 64), 'level 0 was read in bands of one chunk row');
      for (let l = 0; l < levels; l++) {
        const a = await readOmeZarrImage(whole, l),
          b = await readOmeZarrImage(streamed, l);
        assert.deepEqual([b.width, b.height, b.channels], [a.width, a.height, a.channels]);
        assert.deepEqual(b.data, a.data, `level ${l} is identical`);
      }
      const arr = await openArray(streamed, '2');
      const region = await readRegion(arr, 10, 20, 5, 3, 1);
      assert.equal(region.length, 15);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
