// Scale-out figures (npm run bench -- scale, or alone: node bench/scale.mjs after a build):
// - stitching: a synthetic slide with ground truth (BENCH_STITCH_SIDE, default 8192), a probability
//   map made from its truth, cut once whole and block by block (512 px blocks, 32 px margin, each
//   block's margin values off by up to 0.6 as a net's are with less context) in row order and in a
//   shuffled order (the completion order of several workers): F1 of each against the truth, cells,
//   truth cells crossing block borders and those cut there, how the cells differ from the whole cut's,
//   and the times;
// - the viewport preview: runInferTask on a synthetic 2-channel slide (BENCH_PREVIEW_SIDE, default
//   4096) with the shipped model, a 1536 x 1024 viewport and 3 MC passes: seconds from the start to
//   the viewport covered by the one-pass preview and to its MC entropy.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inferPhases, runInferTask, tileOrder } from '@impartial/bridge-server';
import { percentiles, Random, syntheticSlideSource, writeOmeZarrFromSource } from '@impartial/shared';
import { FileSystemStore, genericModelDir } from '@impartial/shared/node';
import { compareStitching } from '../test/dist/helpers/stitching.js';

const log = (m) => process.stderr.write(`${m}\n`);
const STITCH_SIDE = Number(process.env.BENCH_STITCH_SIDE ?? 8192);
const PREVIEW_SIDE = Number(process.env.BENCH_PREVIEW_SIDE ?? 4096);
const results = {};

{
  const slide = { width: STITCH_SIDE, height: STITCH_SIDE, channels: 3, seed: 5 };
  const rng = new Random(1);
  for (const [name, order] of [
    ['rowOrder', (b) => b],
    ['shuffled', (b) => rng.permutation(b)],
  ]) {
    const t = performance.now();
    const r = compareStitching(slide, 512, 32, order, {}, 0.6);
    results[name] = { ...r, seconds: (performance.now() - t) / 1000 };
    log(`stitching ${STITCH_SIDE}^2, ${name}: ${JSON.stringify(results[name])}`);
  }
}

{
  const dir = mkdtempSync(path.join(tmpdir(), 'impartial-bench-scale-'));
  try {
    const slide = { width: PREVIEW_SIDE, height: PREVIEW_SIDE, channels: 2, seed: 15 };
    const imageDir = path.join(dir, 'slide.ome.zarr');
    const levels = await writeOmeZarrFromSource(new FileSystemStore(imageDir), syntheticSlideSource(slide), {
      name: 'slide',
    });
    const sample = await syntheticSlideSource(slide).readRows(PREVIEW_SIDE / 2, 256);
    const [low, high] = percentiles(Float32Array.from([...sample[0], ...sample[1]]), [1, 98]);
    const viewport = { x: PREVIEW_SIDE / 2 - 768, y: PREVIEW_SIDE / 2 - 512, width: 1536, height: 1024 };
    const start = performance.now();
    const seen = { preview: 0, mc: 0 };
    const previewTiles = inferPhases(tileOrder(PREVIEW_SIDE, PREVIEW_SIDE, 512, viewport), 3, viewport)[0].tiles.length;
    const spec = {
      kind: 'infer',
      image: { id: 'slide', name: 'slide', dir: imageDir, levels, ...slide, norm: { low, high } },
      modelDir: genericModelDir(2),
      outDir: path.join(dir, 'prediction.ome.zarr'),
      viewport,
      tile: 512,
      passes: 3,
    };
    const controller = new AbortController();
    await runInferTask(spec, {
      signal: controller.signal,
      log: (l) => log(l),
      tile: (_t, done) => {
        const s = (performance.now() - start) / 1000;
        if (done === previewTiles) seen.preview = s;
        if (done === 2 * previewTiles) {
          seen.mc = s;
          controller.abort();
        }
      },
    });
    results.preview = { side: PREVIEW_SIDE, viewport, viewportTiles: previewTiles, passes: 3, ...seen };
    log(`viewport preview on ${PREVIEW_SIDE}^2: ${JSON.stringify(results.preview)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(JSON.stringify(results));
process.exit(0);
