// Tests of shared/src/node/backend.ts: the backend initBackend picks, and its conv kernels against the cpu backend.
import assert from 'node:assert/strict';
import test from 'node:test';
import { chooseConvPrecision, initBackend, loadNativeKernels } from '@impartial/shared/node';
import { convKernelTests, rand, relativeError, toBf16 } from '../../../helpers/conv-check.js';

// As installed: oneDNN's convolutions when the addon was built (CI installs g++ and libdnnl-dev).
const info = await initBackend();
const native = info.nativeKernels && 'version' in info.nativeKernels;

test('initBackend picks wasm on a machine without a GPU and says so, with the oneDNN kernels when built', () => {
  assert.equal(info.name, 'wasm');
  assert.match(
    info.description,
    /^wasm \((SIMD|no SIMD), \d+ threads?\)( \+ oneDNN \d+\.\d+\.\d+ kernels( \(bf16 convolutions\))?)?$/,
  );
  if (process.env.CI) assert.ok(native, `CI builds the oneDNN addon: ${JSON.stringify(info.nativeKernels)}`);
});

const addon = loadNativeKernels();
if (native && typeof addon !== 'string') {
  const installed = 'precision' in info.nativeKernels! && info.nativeKernels.precision === 'bf16';
  const use = (bf16: boolean) => () => {
    addon.setBf16?.(bf16);
    return () => addon.setBf16?.(installed);
  };
  convKernelTests(info, 'oneDNN kernels, float32', { values: (v) => v, use: use(false) });
  convKernelTests(info, 'oneDNN kernels, bfloat16 inputs', { values: toBf16, use: use(true) });

  test('convolutions take bfloat16 inputs where the CPU has bfloat16 kernels, or as IMPARTIAL_PRECISION says', (t) => {
    t.after(() => addon.setBf16?.(installed));
    const fast = !addon.bf16Kernel!().startsWith('ref');
    const wanted = process.env.IMPARTIAL_PRECISION;
    const expected = wanted === 'bf16' || (wanted !== 'f32' && fast);
    assert.equal(installed, expected, `oneDNN's bfloat16 kernel here: ${addon.bf16Kernel!()}`);
    assert.equal(chooseConvPrecision(addon, undefined), fast ? 'bf16' : 'f32');
    assert.equal(chooseConvPrecision(addon, 'auto'), fast ? 'bf16' : 'f32');
    assert.equal(chooseConvPrecision(addon, 'f32'), 'f32');
    assert.equal(chooseConvPrecision(addon, 'bf16'), 'bf16');
    assert.throws(() => chooseConvPrecision(addon, 'fp16'), /IMPARTIAL_PRECISION must be auto, bf16 or f32, not fp16/);
  });

  test('with bfloat16 on, a convolution really rounds its inputs (and with it off, does not)', (t) => {
    t.after(() => addon.setBf16?.(installed));
    // 1 x 6 x 6 x 8, 3x3 -> 4, stride 1, 'same': values that bfloat16 cannot hold exactly.
    const dims = [1, 6, 6, 8, 3, 3, 4, 6, 6, 1, 1, 1, 1, 1, 1, 1, 1];
    const x = Float32Array.from(rand(6 * 6 * 8, 21)),
      f = Float32Array.from(rand(3 * 3 * 8 * 4, 22));
    const conv = (bf16: boolean, input: Float32Array, filter: Float32Array) => {
      addon.setBf16!(bf16);
      const out = new Float32Array(6 * 6 * 4);
      addon.conv(0, input, filter, out, dims);
      return out;
    };
    const exact = conv(false, x, f),
      rounded = conv(true, x, f),
      onRoundedData = conv(false, toBf16(x), toBf16(f));
    assert.ok(relativeError(rounded, exact) > 1e-4, `bfloat16 moved the output by ${relativeError(rounded, exact)}`);
    assert.ok(relativeError(rounded, onRoundedData) < 1e-5, 'bfloat16 is float32 on rounded inputs');
  });
} else test('oneDNN kernels', { skip: `addon not built here: ${JSON.stringify(info.nativeKernels)}` }, () => {});
