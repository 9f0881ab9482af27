// Tests of shared/src/node/backend.ts: the backend initBackend picks, and its conv kernels against the cpu backend.
import assert from 'node:assert/strict';
import test from 'node:test';
import { initBackend } from '@impartial/shared/node';
import { convKernelTests } from '../../../helpers/conv-check.js';

// As installed: oneDNN's convolutions when the addon was built (CI installs g++ and libdnnl-dev).
const info = await initBackend();
const native = info.nativeKernels && 'version' in info.nativeKernels;

test('initBackend picks wasm on a machine without a GPU and says so, with the oneDNN kernels when built', () => {
  assert.equal(info.name, 'wasm');
  assert.match(info.description, /^wasm \((SIMD|no SIMD), \d+ threads?\)( \+ oneDNN \d+\.\d+\.\d+ kernels)?$/);
  if (process.env.CI) assert.ok(native, `CI builds the oneDNN addon: ${JSON.stringify(info.nativeKernels)}`);
});

if (native) convKernelTests(info, 'oneDNN kernels');
else test('oneDNN kernels', { skip: `addon not built here: ${JSON.stringify(info.nativeKernels)}` }, () => {});
