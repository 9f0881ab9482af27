// Tests of shared/src/packaging/npy.ts: .npy files as numpy writes and reads them.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { decodeNpy, encodeNpy } from '@impartial/shared/packaging';
import { run } from '../../../helpers/cli.js';

const python = '/usr/bin/python3';
const hasNumpy =
  existsSync(python) && (await run(python, ['-c', 'import numpy']).catch(() => ({ code: 1 }))).code === 0;

test('encodes float32 C-order arrays with a 64-byte aligned header, and reads them back', () => {
  const data = Float32Array.from({ length: 24 }, (_, i) => i / 7);
  const bytes = encodeNpy({ shape: [1, 2, 3, 4], data });
  const headerLength = new DataView(bytes.buffer).getUint16(8, true);
  assert.equal((10 + headerLength) % 64, 0);
  assert.match(new TextDecoder().decode(bytes.subarray(10, 10 + headerLength)), /'shape': \(1, 2, 3, 4\)/);
  const back = decodeNpy(bytes);
  assert.deepEqual(back.shape, [1, 2, 3, 4]);
  assert.deepEqual(back.data, data);
  assert.deepEqual(decodeNpy(encodeNpy({ shape: [5], data: new Float32Array(5) })).shape, [5]);
  assert.throws(() => encodeNpy({ shape: [2, 2], data: new Float32Array(3) }), /does not hold 3/);
});

test('refuses what is not a float32 .npy, by name', () => {
  assert.throws(() => decodeNpy(new Uint8Array(20)), /not a \.npy file/);
  const f8 = encodeNpy({ shape: [2], data: new Float32Array(2) });
  const f8Header = f8.slice();
  f8Header[f8Header.indexOf(0x34, 10)] = 0x38; // '<f4' -> '<f8'
  assert.throws(() => decodeNpy(f8Header), /not float32/);
  assert.throws(() => decodeNpy(f8.subarray(0, f8.length - 1)), /data has 7 bytes, not 8/);
});

test('numpy reads what we write and we read what numpy writes', {
  skip: hasNumpy ? false : 'numpy is not installed',
}, async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'impartial-npy-'));
  try {
    const ours = path.join(dir, 'ours.npy'),
      theirs = path.join(dir, 'theirs.npy');
    await writeFile(ours, encodeNpy({ shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6.5]) }));
    const r = await run(python, [
      '-c',
      `import numpy as np, sys; a = np.load(sys.argv[1]); assert a.dtype == np.float32 and a.shape == (2, 3), a
print(float(a[1, 2])); np.save(sys.argv[2], (np.arange(12, dtype=np.float32) / 4).reshape(3, 4))`,
      ours,
      theirs,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '6.5');
    const back = decodeNpy(new Uint8Array(await readFile(theirs)));
    assert.deepEqual(back.shape, [3, 4]);
    assert.equal(back.data[11], 2.75);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
