// Tests of shared/src/protocol/catalogue.ts: what a publish request may say.
import assert from 'node:assert/strict';
import test from 'node:test';
import { orcidValid, PublishRequestSchema } from '@impartial/shared';

test('ORCID iDs are checked with their ISO 7064 check digit', () => {
  assert.ok(orcidValid('0000-0002-1825-0097'));
  assert.ok(orcidValid('0000-0001-5109-3700'));
  assert.ok(orcidValid('0000-0002-1694-233X'));
  assert.ok(!orcidValid('0000-0002-1825-0098'));
  assert.ok(!orcidValid('0000000218250097'));
  assert.ok(!orcidValid('https://orcid.org/0000-0002-1825-0097'));
});

test('a publish request: bioimage.io names, lowercase tags, citations with a DOI or URL', () => {
  const base = {
    name: 'Nuclei 2ch (lab)',
    description: 'd',
    license: 'MIT',
    cite: [{ text: 't', doi: '10.1101/2021.01.20.427458' }],
    visibility: 'everyone',
  };
  const ok = PublishRequestSchema.parse({ ...base, tags: ['Nuclei', ' vectra '] });
  assert.deepEqual(ok.tags, ['nuclei', 'vectra']);
  assert.ok(!PublishRequestSchema.safeParse({ ...base, name: 'a/b:c' }).success);
  assert.ok(!PublishRequestSchema.safeParse({ ...base, name: 'abc' }).success);
  assert.ok(!PublishRequestSchema.safeParse({ ...base, cite: [{ text: 't' }] }).success);
  assert.ok(!PublishRequestSchema.safeParse({ ...base, cite: [{ text: 't', doi: 'https://doi.org/10.1/x' }] }).success);
  assert.ok(!PublishRequestSchema.safeParse({ ...base, visibility: 'world' }).success);
  assert.ok(!PublishRequestSchema.safeParse({ ...base, extra: 1 }).success);
});
