// Tests of shared/src/protocol/fiji.ts: the Fiji stroke text (parseFijiStroke, formatFijiPoints).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFijiPoints, parseFijiStroke } from '@impartial/shared';

describe('Fiji stroke text', () => {
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
