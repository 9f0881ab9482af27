// Tests of shared/src/engine/model-io.ts: loading a saved model over HTTP (loadModelFromUrl).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { forward, loadModelFromUrl } from '@impartial/shared';
import { initBackend, saveModelDir } from '@impartial/shared/node';
import * as tf from '@tensorflow/tfjs-core';
import { image, model } from '../../../helpers/tiny-unet.js';

await initBackend();

test('a saved model loads over HTTP with fetch, as a browser would', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'impartial-model-'));
  const server = createServer(async (req, res) => {
    try {
      res.end(await readFile(path.join(dir, path.basename(req.url ?? ''))));
    } catch {
      res.statusCode = 404;
      res.end();
    }
  });
  try {
    const m = model();
    await saveModelDir(m, dir);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    const back = await loadModelFromUrl(`http://127.0.0.1:${port}/model.json`);
    const x = tf.tensor4d(image(8, 8).data, [1, 8, 8, 3]);
    const a = await forward(m.config, m.weights, x, { dropout: false }).data();
    const b = await forward(back.config, back.weights, x, { dropout: false }).data();
    assert.deepEqual(a, b);
    await assert.rejects(loadModelFromUrl(`http://127.0.0.1:${port}/missing.json`), /HTTP 404/);
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
