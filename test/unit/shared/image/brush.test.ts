// Tests of shared/src/image/brush.ts: painting a stroke with a round brush (paintStroke).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { paintStroke } from '@impartial/shared';

describe('brush', () => {
  it('paints a round brush: a one-pixel stroke is a connected line, widths are diameters', () => {
    const hit = new Set<string>();
    paintStroke(
      [
        [0.5, 0.5],
        [9.5, 3.5],
      ],
      1,
      20,
      20,
      (x, y) => hit.add(`${x},${y}`),
    );
    for (let x = 0; x <= 9; x++)
      assert.ok(
        [...hit].some((k) => k.startsWith(`${x},`)),
        `column ${x} is painted`,
      );
    const disc: Array<[number, number]> = [];
    paintStroke([[10, 10]], 6, 20, 20, (x, y) => disc.push([x, y]));
    assert.ok(disc.length > 24 && disc.length < 36, `a width-6 dab covers about pi*9 pixels (${disc.length})`);
    assert.ok(disc.every(([x, y]) => Math.hypot(x + 0.5 - 10, y + 0.5 - 10) <= 3));
    const clipped: Array<[number, number]> = [];
    paintStroke(
      [
        [-5, -5],
        [2, 2],
      ],
      4,
      20,
      20,
      (x, y) => clipped.push([x, y]),
    );
    assert.ok(
      clipped.every(([x, y]) => x >= 0 && y >= 0),
      'clipped to the image',
    );
  });
});
