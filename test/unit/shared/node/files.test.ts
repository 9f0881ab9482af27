// Tests of shared/src/node/files.ts: model folders (saveModelDir, loadModelDir) and the file readers' errors.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { writeTiff } from '@impartial/shared';
import { initBackend, loadModelDir, readImageFile, readRoiZipFile, saveModelDir } from '@impartial/shared/node';
import { channel, H, N, plane, W } from '../../../helpers/tiff-pages.js';
import { model } from '../../../helpers/tiny-unet.js';

await initBackend();

test('model save/load round trip is exact (files) and keeps config and lineage', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'impartial-model-'));
  try {
    const m = model();
    m.lineage.instances = { separation: 'seeded', threshold: 0.4, seedThreshold: 0.65, seedMinSize: 18 };
    await saveModelDir(m, dir);
    const back = await loadModelDir(dir);
    assert.deepEqual(back.config, m.config);
    assert.deepEqual(back.lineage, m.lineage);
    for (const [name, v] of m.weights) assert.deepEqual(await back.weights.get(name)!.data(), await v.data(), name);
    const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8'));
    assert.equal(json.format, 'impartial-unet');
    assert.equal(json.weightsManifest[0].paths[0], 'weights.bin');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('loading a damaged model names what is wrong', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'impartial-model-'));
  try {
    await saveModelDir(model(), dir);
    const weights = await readFile(path.join(dir, 'weights.bin'));
    await writeFile(path.join(dir, 'weights.bin'), weights.subarray(0, 100));
    await assert.rejects(loadModelDir(dir), /weights\.bin has 100 bytes/);
    await writeFile(path.join(dir, 'model.json'), JSON.stringify({ format: 'something-else' }));
    await assert.rejects(loadModelDir(dir), /not an ImPartial model\.json: format/);
    await assert.rejects(loadModelDir(path.join(dir, 'nope')), /no such file/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('readImageFile names the file when it is corrupt, missing or of an unknown type', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'impartial-tiff-'));
  try {
    const bad = path.join(dir, 'broken.tif');
    writeFileSync(
      bad,
      new Uint8Array(300).map((_, i) => (i * 29 + 3) & 255),
    );
    await assert.rejects(
      readImageFile(bad),
      (e: unknown) => e instanceof Error && e.message.includes(bad) && /not a readable TIFF/.test(e.message),
    );
    const png = path.join(dir, 'x.png');
    writeFileSync(png, 'x');
    await assert.rejects(readImageFile(png), /x\.png: unsupported image type/);
    await assert.rejects(readImageFile(path.join(dir, 'missing.tif')), /missing\.tif: no such file/);
    const ok = path.join(dir, 'ok.tif');
    writeFileSync(ok, writeTiff([{ width: W, height: H, data: plane(Uint8Array, (i) => i) }]));
    assert.deepEqual(
      channel(await readImageFile(ok), 0),
      Array.from({ length: N }, (_, i) => i),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readRoiZipFile names the file in errors', async () => {
  await assert.rejects(
    readRoiZipFile('/nonexistent/folder/labels.zip'),
    /\/nonexistent\/folder\/labels\.zip: no such file/,
  );
});
