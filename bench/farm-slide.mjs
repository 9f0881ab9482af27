// Whole-slide inference with the real engine, alone and spread over worker processes (in `npm run
// bench -- scale`, or alone: node bench/farm-slide.mjs after a build): a synthetic 2-channel slide
// with ground truth (BENCH_FARM_SIDE, default 8192), a model trained for 90 s on the outlines of a
// 1024^2 crop of it (BENCH_FARM_TRAIN_SECONDS), tiles of 512, one
// pass. Once by runInferTask in this process, once as a queued job that a worker takes and shares
// out to BENCH_FARM_WORKERS (default 2) worker processes (Redis started here, the folder shared by
// path). Prints F1 against the truth of each, the truth cells crossing tile borders and those cut
// there (and, as a control, those crossing lines through the middle of the tiles and cut there by the
// model itself), whether the two label images are identical, the shares other workers computed, and times.
// The references: one cut of the whole probability map the tiles wrote (the same cells, pixel for
// pixel, on the pixels the model calls cell), and one pass of the net over a 2048^2 crop at once (what
// the tiles' context margin costs the net's values and the F1 there).
// Cells count as cut by the ids on their foreground (p above the cut's threshold): the 1-px ring the cut
// grows cells by into the background goes to either neighbour at a tie, in one cut as in tiles.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runInferTask } from '@impartial/bridge-server';
import {
  DEFAULT_INSTANCE_OPTIONS,
  imagejHyperstack,
  labelTiff,
  matchInstances,
  percentiles,
  probabilityToInstances,
  syntheticSlideLabels,
  syntheticSlideSource,
  writeOmeZarrFromSource,
  writeTiff,
} from '@impartial/shared';
import { FileSystemStore, loadModelDir } from '@impartial/shared/node';
import { Queue, QueueEvents } from 'bullmq';
import * as zarr from 'zarrita';
import { tileMaps } from '../bridge-server/dist/jobs/tile-maps.js';
import { startRedis } from '../test/dist/helpers/redis.js';
import { cropPlane, cutCells, partitionDifference } from '../test/dist/helpers/stitching.js';
import { cliChild } from './cli-child.mjs';

const log = (m) => process.stderr.write(`${m}\n`);
const SIDE = Number(process.env.BENCH_FARM_SIDE ?? 8192);
const WORKERS = Number(process.env.BENCH_FARM_WORKERS ?? 2);
const TILE = 512;
const TRAIN_SECONDS = Number(process.env.BENCH_FARM_TRAIN_SECONDS ?? 90);

const dir = mkdtempSync(path.join(tmpdir(), 'impartial-bench-farm-'));
const redis = await startRedis();
const workers = [];
const results = { side: SIDE, tile: TILE, passes: 1, workers: WORKERS };
try {
  const slide = { width: SIDE, height: SIDE, channels: 2, seed: 25 };
  const imageDir = path.join(dir, 'slide.ome.zarr');
  let t = performance.now();
  const levels = await writeOmeZarrFromSource(new FileSystemStore(imageDir), syntheticSlideSource(slide), {
    name: 'slide',
  });
  log(`slide ${SIDE}^2 x 2 written in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const sample = await syntheticSlideSource(slide).readRows(SIDE / 2, 256);
  const [low, high] = percentiles(Float32Array.from([...sample[0], ...sample[1]]), [1, 98]);
  // The shipped model never saw this kind of slide: a model trained for TRAIN_SECONDS on the outlines of
  // a 1024^2 crop (as a person would draw them in Fiji) is what the F1 below is about.
  t = performance.now();
  const crop = 1024;
  const rows = await syntheticSlideSource(slide).readRows(0, crop);
  const planes = rows.map((plane) => {
    const out = new Uint16Array(crop * crop);
    // The slide's own 8-bit values, as the slide is read for inference.
    for (let y = 0; y < crop; y++) out.set(plane.subarray(y * SIDE, y * SIDE + crop), y * crop);
    return out;
  });
  const cropTruth = syntheticSlideLabels(slide, { x: 0, y: 0, width: crop, height: crop });
  writeFileSync(path.join(dir, 'crop.tif'), writeTiff(imagejHyperstack(planes, crop, crop)));
  writeFileSync(path.join(dir, 'crop-labels.tif'), labelTiff(crop, crop, cropTruth));
  const modelDir = path.join(dir, 'model');
  const trainer = cliChild([
    'train',
    '--images',
    path.join(dir, 'crop.tif'),
    '--labels',
    path.join(dir, 'crop-labels.tif'),
    '--out',
    modelDir,
    '--seconds',
    String(TRAIN_SECONDS),
  ]);
  const code = await new Promise((resolve) => trainer.on('exit', resolve));
  if (code !== 0) throw new Error(`training failed: ${trainer.out}`);
  results.training = { seconds: TRAIN_SECONDS, crop, wall: (performance.now() - t) / 1000 };
  log(`model trained on a ${crop}^2 crop's outlines for ${TRAIN_SECONDS} s`);
  const spec = (out) => ({
    kind: 'infer',
    image: { id: 'slide', name: 'slide', dir: imageDir, levels, ...slide, norm: { low, high } },
    modelDir,
    outDir: path.join(dir, out),
    tempDir: path.join(dir, 'tmp'),
    tile: TILE,
    passes: 1,
  });
  const labelsOf = async (out) => {
    const arr = await zarr.open.v2(zarr.root(new FileSystemStore(path.join(dir, out))).resolve('labels/instances/0'), {
      kind: 'array',
    });
    return (await zarr.get(arr)).data;
  };

  t = performance.now();
  let tiles = 0;
  await runInferTask(spec('alone.ome.zarr'), {
    signal: new AbortController().signal,
    log: () => {},
    tile: (_t, done, total) => {
      if (done % 32 === 0) log(`alone: ${done}/${total} tiles`);
      tiles = total;
    },
  });
  results.alone = { seconds: (performance.now() - t) / 1000, tiles };
  log(`alone: ${results.alone.seconds.toFixed(0)} s`);

  for (let k = 0; k < WORKERS; k++) {
    const args = ['worker', '--queue', redis.url, '--data', path.join(dir, `w${k}`), '--name', `w${k}`];
    workers.push(cliChild([...args, '--threads', String(Math.max(1, Math.floor(2 / WORKERS)))]));
  }
  const connection = { url: redis.url, maxRetriesPerRequest: null };
  const queue = new Queue('impartial-jobs', { connection });
  const events = new QueueEvents('impartial-jobs', { connection });
  await events.waitUntilReady();
  while (!workers.every((w) => /waiting for jobs/.test(w.out))) await new Promise((r) => setTimeout(r, 200));
  t = performance.now();
  const job = await queue.add('infer', { spec: spec('farmed.ome.zarr') }, { jobId: 'farm-bench', priority: 10 });
  await job.waitUntilFinished(events, 3_600_000);
  const shared = workers.map((w) => (w.out.match(/job farm-bench\.[^ ]+ \(tile-maps\)/g) ?? []).length);
  results.farmed = { seconds: (performance.now() - t) / 1000, sharesPerWorker: shared };
  log(`farmed over ${WORKERS} workers: ${results.farmed.seconds.toFixed(0)} s, shares taken: ${shared}`);
  await Promise.all([queue.close(), events.close()]);

  const truth = syntheticSlideLabels(slide, { x: 0, y: 0, width: SIDE, height: SIDE });
  const truthImage = { width: SIDE, height: SIDE, data: truth };
  const [alone, farmed] = [await labelsOf('alone.ome.zarr'), await labelsOf('farmed.ome.zarr')];
  results.identical = alone.length === farmed.length && alone.every((v, i) => v === farmed[i]);
  const model = await loadModelDir(modelDir);
  const instances = { ...DEFAULT_INSTANCE_OPTIONS, ...model.lineage.instances };
  const written = await zarr.open.v2(zarr.root(new FileSystemStore(path.join(dir, 'alone.ome.zarr'))).resolve('0'), {
    kind: 'array',
  });
  const probability = (await zarr.get(written, [0, null, null])).data;
  t = performance.now();
  const whole = probabilityToInstances({ width: SIDE, height: SIDE, data: probability }, instances);
  results.wholeCut = { seconds: (performance.now() - t) / 1000 };
  const foreground = Uint8Array.from(probability, (v) => (v > instances.threshold ? 1 : 0));
  const wholeCut = cutCells(truth, Uint32Array.from(whole.data), SIDE, SIDE, TILE, foreground);
  // The control: the same count on lines through the middle of the tiles, where no tile border is
  // (the model's own splits of cells, which a border crossing the cell meets as often).
  const mid = { x: TILE / 2, y: TILE / 2, width: SIDE - TILE / 2, height: SIDE - TILE / 2 };
  for (const [name, labels] of [
    ['alone', alone],
    ['farmed', farmed],
    ['wholeCut', Uint32Array.from(whole.data)],
  ]) {
    const scores = matchInstances(truthImage, { width: SIDE, height: SIDE, data: new Int32Array(labels.buffer) });
    const cut = cutCells(truth, labels, SIDE, SIDE, TILE, foreground);
    const midCut = cutCells(
      cropPlane(truth, SIDE, mid, Int32Array),
      cropPlane(labels, SIDE, mid, Uint32Array),
      mid.width,
      mid.height,
      TILE,
      cropPlane(foreground, SIDE, mid, Uint8Array),
    );
    Object.assign(results[name], {
      f1: scores.f1,
      cells: new Set(labels).size - 1,
      cutAtBorders: cut.cut.size,
      cutByStitching: [...cut.cut].filter((c) => !wholeCut.cut.has(c)).length,
      crossingMidLines: midCut.crossing,
      cutAtMidLines: midCut.cut.size,
    });
    if (name !== 'wholeCut') results[name].againstWholeCut = partitionDifference(whole.data, labels, foreground);
    results.crossingBorders = cut.crossing;
  }
  // One net pass over a crop at once, against the tiles' values and cells there (away from the crop's edges).
  const c = Math.min(2048, SIDE),
    crop0 = (SIDE - c) / 2;
  t = performance.now();
  const net = await tileMaps(
    model,
    spec('x').image,
    new FileSystemStore(imageDir),
    { x: crop0, y: crop0, width: c, height: c },
    1,
  );
  const inner = { x: 64, y: 64, width: c - 128, height: c - 128 };
  const at = { ...inner, x: crop0 + 64, y: crop0 + 64 };
  const netP = cropPlane(net.probability, c, inner, Float32Array);
  const tiledP = cropPlane(probability, SIDE, at, Float32Array);
  let maxDiff = 0,
    sumDiff = 0;
  for (let i = 0; i < netP.length; i++) {
    const d = Math.abs(netP[i] - tiledP[i]);
    maxDiff = Math.max(maxDiff, d);
    sumDiff += d;
  }
  const innerTruth = { width: inner.width, height: inner.height, data: cropPlane(truth, SIDE, at, Int32Array) };
  const netCells = probabilityToInstances({ width: c, height: c, data: net.probability }, instances);
  const f1Of = (labels, width) =>
    matchInstances(innerTruth, {
      width: inner.width,
      height: inner.height,
      data: cropPlane(labels, width, width === c ? inner : at, Int32Array),
    }).f1;
  results.onePass = {
    crop: c,
    seconds: (performance.now() - t) / 1000,
    maxAbsDiff: maxDiff,
    meanAbsDiff: sumDiff / netP.length,
    f1OnePass: f1Of(netCells.data, c),
    f1Tiled: f1Of(new Int32Array(alone.buffer), SIDE),
  };
  results.truthCells = new Set(truth).size - 1;
  log(JSON.stringify(results));
} finally {
  for (const w of workers) w.kill('SIGKILL');
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(results));
process.exit(0);
