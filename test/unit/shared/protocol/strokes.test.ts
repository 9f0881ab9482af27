// Tests of shared/src/protocol/strokes.ts: replaying the stroke log (activeDrawings, undoRedoTarget, strokeGroup).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { activeDrawings, type LogEntry, strokeGroup, undoRedoTarget } from '@impartial/shared';

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

  it("an outline's strokes (one author, one ref) are switched off and on together", () => {
    const part = (seq: number, ref: string, author = 'a'): LogEntry => ({ ...add(seq, author), ref });
    const log: LogEntry[] = [add(1), part(2, 'o1'), part(3, 'o1'), part(4, 'o1'), part(5, 'o1', 'b'), part(6, 'o2')];
    assert.deepEqual(strokeGroup(log, 3, 'undo'), [2, 3, 4], "not b's stroke with the same ref, nor another ref");
    assert.deepEqual(strokeGroup(log, 1, 'undo'), [1], 'a drawing without a ref is its own group');
    log.push(undo(7, 4));
    assert.deepEqual(strokeGroup(log, 2, 'undo'), [2, 3], 'a part already off is left out');
    log.push(undo(8, 2), undo(9, 3));
    assert.deepEqual(strokeGroup(log, 3, 'redo'), [2, 3, 4], 'redo brings every part back');
    assert.deepEqual(strokeGroup(log, 99, 'undo'), [99], 'an unknown seq is left for the caller to refuse');
  });
});
