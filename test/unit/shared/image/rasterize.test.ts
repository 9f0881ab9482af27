// Tests of shared/src/image/rasterize.ts: filling polygons (fillPolygon, polygonsToLabels).
import assert from 'node:assert/strict';
import test from 'node:test';
import { fillPolygon, type Polygon, polygonsToLabels } from '@impartial/shared';
import { normalizeGrid, show } from '../../../helpers/grid.js';

function filled(polygon: Polygon, width: number, height: number): string {
  const data = new Uint8Array(width * height);
  fillPolygon(polygon, width, height, (i) => {
    data[i]!++;
  });
  return show(data, width);
}

test('fillPolygon: a pixel is inside when its centre is (integer rectangle covers exactly its pixels)', () => {
  assert.equal(
    filled(
      [
        [1, 1],
        [4, 1],
        [4, 3],
        [1, 3],
      ],
      6,
      4,
    ),
    normalizeGrid(`
    ......
    .111..
    .111..
    ......`),
  );
});

test('fillPolygon: pixel-centre rule with fractional vertices', () => {
  // centres 0.5 / 1.5 / 2.5: only 1.5 lies in [0.6, 2.4]
  assert.equal(
    filled(
      [
        [0.6, 0.6],
        [2.4, 0.6],
        [2.4, 2.4],
        [0.6, 2.4],
      ],
      4,
      4,
    ),
    normalizeGrid(`
    ....
    .1..
    ....
    ....`),
  );
  assert.equal(
    filled(
      [
        [0.4, 0.4],
        [2.6, 0.4],
        [2.6, 2.6],
        [0.4, 2.6],
      ],
      4,
      4,
    ),
    normalizeGrid(`
    111.
    111.
    111.
    ....`),
  );
  // triangle x + y < 4.2: centres (x + 0.5) + (y + 0.5) < 4.2
  assert.equal(
    filled(
      [
        [0, 0],
        [4.2, 0],
        [0, 4.2],
      ],
      6,
      5,
    ),
    normalizeGrid(`
    1111..
    111...
    11....
    1.....
    ......`),
  );
  // counter-clockwise order fills the same pixels
  assert.equal(
    filled(
      [
        [0, 0],
        [0, 4.2],
        [4.2, 0],
      ],
      6,
      5,
    ),
    filled(
      [
        [0, 0],
        [4.2, 0],
        [0, 4.2],
      ],
      6,
      5,
    ),
  );
});

test('fillPolygon clips to the raster and ignores degenerate polygons', () => {
  assert.equal(
    filled(
      [
        [-3, -2],
        [2, -2],
        [2, 2],
        [-3, 2],
      ],
      4,
      3,
    ),
    normalizeGrid(`
    11..
    11..
    ....`),
  );
  assert.equal(
    filled(
      [
        [2, 1],
        [9, 1],
        [9, 9],
        [2, 9],
      ],
      4,
      3,
    ),
    normalizeGrid(`
    ....
    ..11
    ..11`),
  );
  assert.equal(
    filled(
      [
        [0, 0],
        [3, 3],
      ],
      4,
      3,
    ),
    normalizeGrid(`
    ....
    ....
    ....`),
  );
  assert.equal(
    filled(
      [
        [10, 10],
        [20, 10],
        [20, 20],
        [10, 20],
      ],
      4,
      3,
    ),
    normalizeGrid(`
    ....
    ....
    ....`),
  );
});

test('polygonsToLabels: ids from 1 in order, earlier polygons win overlaps, empty polygons get no id', () => {
  const labels = polygonsToLabels(
    [
      [
        [0, 0],
        [3, 0],
        [3, 3],
        [0, 3],
      ],
      [
        [30, 30],
        [40, 30],
        [40, 40],
      ], // outside: no id
      [
        [2, 1],
        [6, 1],
        [6, 4],
        [2, 4],
      ], // overlaps the first
      [
        [0, 0],
        [1, 1],
      ], // degenerate: no id
      [
        [5, 0],
        [7, 0],
        [7, 1],
        [5, 1],
      ],
    ],
    7,
    5,
  );
  assert.equal(
    show(labels.data, 7),
    normalizeGrid(`
    111..33
    111222.
    111222.
    ..2222.
    .......`),
  );
  assert.equal(labels.width, 7);
  assert.equal(labels.height, 5);
});
