// Tests of shared/src/engine/model.ts: the lineage every model version is made with.
import assert from 'node:assert/strict';
import test from 'node:test';
import { childLineage } from '@impartial/shared';

const instances = { separation: 'seeded' as const, threshold: 0.3, seedThreshold: 0.6, seedMinSize: 12 };

test('a first version has no parent and needs its channel names', () => {
  const first = childLineage(null, { id: 'm1', author: 'ann', channels: ['DAPI'], steps: 100, seconds: 30 });
  assert.deepEqual([first.parent, first.steps, first.trainSeconds, first.channels], [null, 100, 30, ['DAPI']]);
  assert.throws(() => childLineage(null, { id: 'm0', author: 'ann', steps: 1, seconds: 1 }), /channel names/);
});

test('steps and seconds add up along a fine-tune chain; channels and the instance cut are inherited', () => {
  const first = {
    ...childLineage(null, { id: 'm1', author: 'ann', channels: ['a', 'b'], steps: 100, seconds: 30 }),
    instances,
  };
  const second = childLineage(first, { id: 'm2', author: 'bob', steps: 50, seconds: 20, strokesHash: 'h2' });
  const third = childLineage(second, { id: 'm3', author: 'cy', steps: 5, seconds: 1 });
  assert.deepEqual([second.parent, second.author, second.steps, second.trainSeconds], ['m1', 'bob', 150, 50]);
  assert.deepEqual([third.parent, third.steps, third.trainSeconds], ['m2', 155, 51]);
  assert.deepEqual([third.channels, third.instances], [['a', 'b'], instances]);
  assert.equal(second.strokesHash, 'h2');
  assert.equal(third.strokesHash, undefined, 'a hash belongs to the training that saw those strokes');
});

test("a copy (no training) keeps the parent's steps and names it as parent", () => {
  const parent = childLineage(null, { id: 'g', author: 'pretrain', channels: ['x'], steps: 2400, seconds: 900 });
  const copy = childLineage(parent, { id: 'm9', author: 'generic', steps: 0, seconds: 0 });
  assert.deepEqual([copy.parent, copy.steps, copy.trainSeconds, copy.id], ['g', 2400, 900, 'm9']);
});

test('authors along a chain: each who trained, once, in order; a copy adds none; the entry is kept', () => {
  const ann = childLineage(null, { id: 'm1', author: 'ann', channels: ['DAPI'], steps: 10, seconds: 1 });
  assert.deepEqual(ann.authors, ['ann']);
  const copy = childLineage(ann, { id: 'm2', author: 'bob', steps: 0, seconds: 0, catalogue: 'c1' });
  assert.deepEqual(copy.authors, ['ann']);
  assert.equal(copy.catalogue, 'c1');
  const bob = childLineage(copy, { id: 'm3', author: 'bob', steps: 5, seconds: 1 });
  assert.deepEqual(bob.authors, ['ann', 'bob']);
  assert.equal(bob.catalogue, 'c1', 'a fine-tune keeps the entry it descends from');
  const again = childLineage(bob, { id: 'm4', author: 'ann', steps: 5, seconds: 1 });
  assert.deepEqual(again.authors, ['ann', 'bob']);
  // A version saved before authors were recorded credits its author.
  const { authors: _a, ...legacy } = ann;
  assert.deepEqual(
    childLineage({ ...legacy, author: 'old' }, { id: 'm5', author: 'cy', steps: 1, seconds: 1 }).authors,
    ['old', 'cy'],
  );
});
