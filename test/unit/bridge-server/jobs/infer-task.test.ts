// Tests of bridge-server/src/jobs/infer-task.ts: the order of inference tiles (tileOrder).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tileOrder } from '@impartial/bridge-server';

describe('bridge building blocks', () => {
  it('orders inference tiles: those meeting the viewport first, then outwards', () => {
    const tiles = tileOrder(1000, 600, 256, { x: 700, y: 300, width: 100, height: 100 });
    assert.equal(tiles.length, 4 * 3);
    assert.deepEqual(
      tiles.slice(0, 2),
      [
        { x: 512, y: 256, width: 256, height: 256 },
        { x: 768, y: 256, width: 232, height: 256 },
      ],
      'the two tiles under the viewport, the one whose centre is nearer first',
    );
    const covered = new Set(tiles.map((t) => `${t.x},${t.y}`));
    assert.equal(covered.size, 12, 'every tile once');
    const far = tiles.at(-1)!;
    assert.deepEqual([far.x, far.y], [0, 0]);
  });
});
