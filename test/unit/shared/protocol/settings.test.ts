// Tests of shared/src/protocol/settings.ts: the training and inference defaults, declared once.
import assert from 'node:assert/strict';
import test from 'node:test';
import {
  INFERENCE_DEFAULTS,
  InferRequestSchema,
  TRAINING_DEFAULTS,
  TrainingSettingsSchema,
  TrainRequestSchema,
} from '@impartial/shared';

test('the defaults are what the settings schema gives for an empty object, and pass it', () => {
  assert.deepEqual(TRAINING_DEFAULTS, TrainingSettingsSchema.parse({}));
  assert.ok(Object.isFrozen(TRAINING_DEFAULTS) && Object.isFrozen(INFERENCE_DEFAULTS));
  for (const [key, value] of Object.entries(TRAINING_DEFAULTS))
    assert.equal(typeof value, key === 'decay' ? 'boolean' : 'number', key);
});

test('a request keeps only what the client named: defaults are applied later, not written into it', () => {
  assert.deepEqual(TrainRequestSchema.parse({}), {});
  assert.deepEqual(TrainRequestSchema.parse({ steps: 10 }), { steps: 10 });
  assert.deepEqual(InferRequestSchema.parse({ image: 'i1' }), { image: 'i1' });
});

test("a request is checked with the settings' own bounds, and unknown fields are refused", () => {
  assert.equal(TrainRequestSchema.safeParse({ batchSize: 0 }).success, false);
  assert.equal(TrainRequestSchema.safeParse({ depth: 7 }).success, false);
  assert.equal(InferRequestSchema.safeParse({ image: 'i1', passes: 33 }).success, false);
  assert.equal(TrainRequestSchema.safeParse({ weightDecay: 0.1 }).success, false, 'not a client setting');
  assert.equal(TrainRequestSchema.safeParse({ bogus: 1 }).success, false);
});
