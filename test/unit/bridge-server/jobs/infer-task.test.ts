// Tests of bridge-server/src/jobs/infer-task.ts: the order of inference tiles (tileOrder), the
// viewport's preview (inferPhases) and cells kept whole across tile borders (runInferTask).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { inferPhases, runInferTask, tileOrder } from '@impartial/bridge-server';
import {
  DEFAULT_INSTANCE_OPTIONS,
  matchInstances,
  openArray,
  percentiles,
  probabilityToInstances,
  readRegion,
  syntheticSlideLabels,
  syntheticSlideSource,
  writeOmeZarrFromSource,
} from '@impartial/shared';
import { FileSystemStore, genericModelDir, loadModelDir } from '@impartial/shared/node';
import { cutCells } from '../../../helpers/stitching.js';

describe('bridge building blocks', () => {
  it('orders inference tiles: those meeting the viewport first, then outwards', () => {
    const tiles = tileOrder(1000, 600, 256, { x: 700, y: 300, width: 100, height: 100 });
    assert.equal(tiles.length, 4 * 3);
    assert.deepEqual(
      tiles.slice(0, 2),
      [
        { x: 512, y: 256, width: 256, height: 256 },
        { x: 768, y: 256, width: 232, height: 256 },
      ],
      'the two tiles under the viewport, the one whose centre is nearer first',
    );
    const covered = new Set(tiles.map((t) => `${t.x},${t.y}`));
    assert.equal(covered.size, 12, 'every tile once');
    const far = tiles.at(-1)!;
    assert.deepEqual([far.x, far.y], [0, 0]);
  });

  it('previews the viewport in one pass before the full passes, only when several passes are asked for', () => {
    const viewport = { x: 700, y: 300, width: 100, height: 100 };
    const tiles = tileOrder(1000, 600, 256, viewport);
    const [preview, full] = inferPhases(tiles, 4, viewport);
    assert.deepEqual(
      preview,
      { tiles: tiles.slice(0, 2), passes: 1, preview: true },
      'the viewport tiles, single pass',
    );
    assert.deepEqual(full, { tiles, passes: 4, preview: false });
    assert.deepEqual(inferPhases(tiles, 1, viewport), [{ tiles, passes: 1, preview: false }]);
    assert.deepEqual(inferPhases(tiles, 4), [{ tiles, passes: 4, preview: false }]);
  });
});

describe('inference tile by tile', () => {
  it('keeps cells crossing tile borders whole: the same cells as one cut over the whole probability map', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'impartial-infer-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const slide = { width: 1024, height: 768, channels: 2, seed: 15 };
    const imageDir = path.join(dir, 'image.ome.zarr');
    await writeOmeZarrFromSource(new FileSystemStore(imageDir), syntheticSlideSource(slide), { name: 'slide' });
    const raw = await openArray(new FileSystemStore(imageDir), '0');
    const planes = [await readRegion(raw, 0, 0, 1024, 768, 0), await readRegion(raw, 0, 0, 1024, 768, 1)];
    const [low, high] = percentiles(Float32Array.from([...planes[0]!, ...planes[1]!]), [1, 98]) as [number, number];
    const modelDir = genericModelDir(2)!;
    const outDir = path.join(dir, 'prediction.ome.zarr');
    const viewport = { x: 300, y: 200, width: 300, height: 200 };
    const image = { id: 'i', name: 'slide', dir: imageDir, levels: 3, ...slide, norm: { low, high } };
    const run = (passes: number, tile: (r: { x: number; y: number }, done: number, total: number) => void) =>
      runInferTask(
        { kind: 'infer', image, modelDir, outDir, viewport, tile: 256, passes },
        { signal: new AbortController().signal, log: () => {}, tile },
      );
    const announced: Array<{ x: number; y: number; done: number; total: number }> = [];
    const mc = await run(2, (r, done, total) => announced.push({ x: r.x, y: r.y, done, total }));
    // 4 preview tiles under the viewport, then all 12.
    assert.equal(announced.length, 16);
    assert.deepEqual(
      announced
        .slice(0, 4)
        .map((a) => `${a.x},${a.y}`)
        .sort(),
      ['256,0', '256,256', '512,0', '512,256'],
    );
    assert.deepEqual(
      announced
        .slice(4, 8)
        .map((a) => `${a.x},${a.y}`)
        .sort(),
      ['256,0', '256,256', '512,0', '512,256'],
    );
    assert.ok(announced.every((a, i) => a.done === i + 1 && a.total === 16));
    assert.equal(mc.tiles.length, 12, 'the full tiles only rank suggestions');

    // The cut compared with one whole cut on one pass: mirrored passes differ from tile to tile (the
    // mirror moves the tile's margins), so a cell at a border may be cut differently by the two sides.
    const result = await run(1, () => {});
    const out = new FileSystemStore(outDir);
    const probability = (await readRegion(await openArray(out, '0'), 0, 0, 1024, 768, 0)) as Float32Array;
    const labels = (await readRegion(await openArray(out, 'labels/instances/0'), 0, 0, 1024, 768)) as Uint32Array;
    const model = await loadModelDir(modelDir);
    const whole = probabilityToInstances(
      { width: 1024, height: 768, data: probability },
      { ...DEFAULT_INSTANCE_OPTIONS, ...model.lineage.instances },
    );
    const tiled = { width: 1024, height: 768, data: new Int32Array(labels.buffer) };
    assert.equal(result.cells, new Set(labels).size - 1, 'the cell count is the distinct ids written');
    const truth = syntheticSlideLabels(slide, { x: 0, y: 0, width: 1024, height: 768 });
    const truthImage = { width: 1024, height: 768, data: truth };
    const f1 = { tiled: matchInstances(truthImage, tiled).f1, whole: matchInstances(truthImage, whole).f1 };
    // The probability at a border comes from one side: the cuts agree on the cells, not on every pixel.
    const agreement = matchInstances(whole, tiled);
    assert.ok(agreement.f1 >= 0.99, `tiles vs one whole cut: ${JSON.stringify(agreement)}`);
    assert.ok(Math.abs(f1.tiled - f1.whole) <= 0.01, `F1 against the truth: ${JSON.stringify(f1)}`);
    // The whole cut's cells that cross tile borders: the tiles give each one id.
    const crossing = cutCells(whole.data, labels, 1024, 768, 256);
    assert.ok(crossing.crossing > 100, `${crossing.crossing} cells cross tile borders`);
    assert.deepEqual([...crossing.cut], [], 'cells cut at a tile border');
  });

  it('samples dropout in each pass only when the request asks for Monte-Carlo dropout', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'impartial-infer-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const slide = { width: 192, height: 160, channels: 2, seed: 3 };
    const imageDir = path.join(dir, 'image.ome.zarr');
    await writeOmeZarrFromSource(new FileSystemStore(imageDir), syntheticSlideSource(slide), { name: 'small' });
    const image = { id: 'i', name: 'small', dir: imageDir, levels: 1, ...slide, norm: { low: 0, high: 255 } };
    const outDir = path.join(dir, 'prediction.ome.zarr');
    const probabilityOf = async (dropout: boolean) => {
      const spec = { kind: 'infer' as const, image, modelDir: genericModelDir(2)!, outDir, tile: 256, passes: 3 };
      await runInferTask(dropout ? { ...spec, dropout } : spec, {
        signal: new AbortController().signal,
        log: () => {},
        tile: () => {},
      });
      return (await readRegion(await openArray(new FileSystemStore(outDir), '0'), 0, 0, 192, 160, 0)) as Float32Array;
    };
    const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((d, v, i) => Math.max(d, Math.abs(v - b[i]!)), 0);
    const plain = [await probabilityOf(false), await probabilityOf(false)];
    assert.equal(maxDiff(plain[0]!, plain[1]!), 0, 'the deterministic passes give the same map every time');
    const sampled = [await probabilityOf(true), await probabilityOf(true)];
    assert.ok(maxDiff(sampled[0]!, sampled[1]!) > 1e-4, 'MC dropout draws new masks in each run');
  });
});
