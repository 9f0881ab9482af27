// Tests of shared/src/protocol/errors.ts and shared/src/errors.ts: error codes, their statuses, the error classes.
import assert from 'node:assert/strict';
import test from 'node:test';
import {
  ErrorCodeSchema,
  HTTP_STATUS,
  ImpartialError,
  InputError,
  isImpartialError,
  LimitError,
  TiffFormatError,
} from '@impartial/shared';

test('every code has an HTTP status: a client error (4xx) unless the fault is the server or one it called', () => {
  for (const code of ErrorCodeSchema.options) {
    const status = HTTP_STATUS[code];
    const serverSide = code === 'internal' || code === 'unreachable' || code === 'unavailable';
    assert.ok(serverSide ? status >= 500 && status < 600 : status >= 400 && status < 500, `${code}: ${status}`);
  }
  assert.deepEqual(Object.keys(HTTP_STATUS).sort(), [...ErrorCodeSchema.options].sort());
});

test('input and limit errors carry their codes; format errors are input errors', () => {
  assert.equal(new InputError('x').code, 'bad-request');
  assert.equal(new LimitError('x').code, 'too-large');
  const tiff = new TiffFormatError('a.tif: broken');
  assert.ok(tiff instanceof InputError && isImpartialError(tiff));
  assert.equal(tiff.code, 'bad-request');
  assert.equal(isImpartialError(new Error('plain')), false);
  assert.equal(new ImpartialError('conflict', 'busy', { cause: 'x' }).cause, 'x');
});
