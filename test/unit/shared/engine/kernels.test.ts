// Tests of shared/src/engine/kernels.ts: the wasm rewrites of the conv gradients against the cpu backend.
import { initBackend } from '@impartial/shared/node';
import { convKernelTests } from '../../../helpers/conv-check.js';

// Without the oneDNN addon (each test file is its own process): the engine's wasm rewrites of the
// conv gradients, what runs where the addon cannot be built.
process.env.IMPARTIAL_NATIVE = '0';
const info = await initBackend();
convKernelTests(info, 'wasm kernels');
