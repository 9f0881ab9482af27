// Tests of shared/src/image/sparse-raster.ts: rasterizeDrawings into a tiled SparseRaster.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rasterizeDrawings, SparseRaster } from '@impartial/shared';

describe('sparse raster', () => {
  it('keeps only painted tiles of a huge raster and erases with later strokes', () => {
    const r = rasterizeDrawings(
      [
        {
          op: 'add',
          class: 1,
          width: 4,
          points: [
            [100_000, 50_000],
            [100_300, 50_000],
          ],
        },
        { op: 'add', class: 2, width: 2, points: [[10, 10]] },
        { op: 'erase', class: 1, width: 10, points: [[100_150, 50_000]] },
      ],
      200_000,
      100_000,
    );
    assert.equal(r.tileCoordinates().length, 3, 'two tiles for the long stroke, one for the dab');
    assert.equal(r.get(100_100, 50_000), 1);
    assert.equal(r.get(100_150, 50_000), 0, 'erased');
    assert.equal(r.get(10, 10), 2);
    const region = r.region(100_090, 49_998, 20, 4);
    assert.equal(region.data.filter((v) => v === 1).length > 40, true);
    const empty = new SparseRaster(10, 10);
    empty.set(3, 3, 0);
    assert.equal(empty.tileCoordinates().length, 0, 'erasing nothing allocates nothing');
  });
});
