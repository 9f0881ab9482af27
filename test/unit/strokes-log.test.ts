import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  activeDrawings,
  formatFijiPoints,
  type LogEntry,
  paintStroke,
  parseFijiStroke,
  rasterizeDrawings,
  SparseRaster,
  undoRedoTarget,
} from '@impartial/shared';

const add = (seq: number, author = 'a', cls = 1): LogEntry => ({
  seq,
  author,
  t: 0,
  op: 'add',
  class: cls,
  width: 1,
  points: [[seq, 0]],
});
const undo = (seq: number, target: number, author = 'a'): LogEntry => ({ seq, author, t: 0, op: 'undo', target });
const redo = (seq: number, target: number, author = 'a'): LogEntry => ({ seq, author, t: 0, op: 'redo', target });

describe('stroke log', () => {
  it('replays undo and redo as switches on drawings', () => {
    const log = [add(1), add(2), undo(3, 2), add(4, 'b'), redo(5, 2), undo(6, 1)];
    assert.deepEqual(
      activeDrawings(log).map((d) => d.seq),
      [2, 4],
    );
  });

  it("undo takes the author's latest drawing in effect; redo the latest undo, until a new drawing", () => {
    const log: LogEntry[] = [add(1), add(2, 'b'), add(3)];
    assert.equal(undoRedoTarget(log, 'a', 'undo'), 3);
    log.push(undo(4, 3));
    assert.equal(undoRedoTarget(log, 'a', 'undo'), 1, 'then the one before, skipping other authors');
    log.push(undo(5, 1));
    assert.equal(undoRedoTarget(log, 'a', 'undo'), null);
    assert.equal(undoRedoTarget(log, 'a', 'redo'), 1, 'redo restores the latest undo first');
    log.push(redo(6, 1));
    assert.equal(undoRedoTarget(log, 'a', 'redo'), 3);
    assert.equal(undoRedoTarget(log, 'b', 'redo'), null, 'b undid nothing');
    log.push(add(7));
    assert.equal(undoRedoTarget(log, 'a', 'redo'), null, 'a new drawing ends the redo chain');
  });

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

  it('parses and formats the Fiji stroke text, naming what is wrong', () => {
    assert.deepEqual(parseFijiStroke('add|2|3.5|1,2;3.25,4;'), {
      op: 'add',
      class: 2,
      width: 3.5,
      points: [
        [1, 2],
        [3.25, 4],
      ],
    });
    assert.throws(() => parseFijiStroke('add|1|2'), /op\|class\|width/);
    assert.throws(() => parseFijiStroke('draw|1|2|1,2'), /add, erase or outline/);
    assert.throws(() => parseFijiStroke('outline|1|1|1,2;3,4'), /at least 3 points/);
    assert.equal(parseFijiStroke('outline|1|1|1,2;3,4;5,1').op, 'outline');
    assert.throws(() => parseFijiStroke('add|0|2|1,2'), /class/);
    assert.throws(() => parseFijiStroke('add|1|0|1,2'), /width/);
    assert.throws(() => parseFijiStroke('add|1|2|1;2'), /not x,y/);
    assert.throws(() => parseFijiStroke('add|1|2|'), /at least one point/);
    assert.equal(
      formatFijiPoints([
        [1, 2],
        [1.23456, 4],
      ]),
      '1,2;1.23,4',
    );
  });
});

describe('outlines as strokes', () => {
  it('paints what ImPartial derives from outlines: skeleton + inner ring as cell, outline as background', async () => {
    const { outlinesToScribbles, outlinesToStrokes, rasterizeDrawings } = await import('@impartial/shared');
    const polygons: Array<Array<[number, number]>> = [
      [
        [10, 10],
        [40, 12],
        [42, 35],
        [12, 38],
      ],
      [
        [42, 12],
        [70, 10],
        [72, 40],
        [44, 36],
      ],
    ];
    const expected = outlinesToScribbles(polygons, 90, 60);
    const strokes = outlinesToStrokes(polygons, 90, 60);
    assert.ok(strokes.some((s) => s.class === 1) && strokes.some((s) => s.class === 2));
    const painted = rasterizeDrawings(strokes, 90, 60).region(0, 0, 90, 60);
    let missed = 0,
      extra = 0,
      wrong = 0,
      total = 0;
    for (let i = 0; i < expected.data.length; i++) {
      const e = expected.data[i]!,
        p = painted.data[i]!;
      if (e) {
        total++;
        if (!p) missed++;
        else if (p !== e) wrong++;
      } else if (p) extra++;
    }
    assert.equal(missed, 0, 'every scribble pixel is painted');
    assert.ok(wrong <= total * 0.05, `classes agree (${wrong} of ${total} differ)`);
    assert.ok(extra <= total * 0.35, `the 1-px brush adds little (${extra} extra pixels for ${total})`);
  });
});
