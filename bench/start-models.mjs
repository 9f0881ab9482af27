// Starting models against random weights, for 1, 3, 6 and 8 channels (in `npm run bench -- starts`, or
// alone: node bench/start-models.mjs after a build). For each channel count, a synthetic 512^2 image with
// ground truth that no pretraining saw (seed 77; 1 channel: the whole-cell stain alone; 3: nuclear,
// whole-cell, cytoplasm; 6 and 8: those and 3 or 5 markers; 3 and 8 start from the 6-channel model,
// adapted), 20% of its cells scribbled, `impartial eval` for BENCH_START_SECONDS (default 60) from the
// starting model (--init generic) and from random weights (--init scratch), seeds 0, 1, 2
// (BENCH_START_SEEDS). Prints F1 of each and the medians. BENCH_START_CHANNELS=1 runs one count.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { imagejHyperstack, labelTiff, selectChannels, syntheticCells, writeTiff } from '@impartial/shared';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(repo, 'bridge-server', 'bin', 'impartial.js');
const log = (m) => process.stderr.write(`${m}\n`);
const SECONDS = Number(process.env.BENCH_START_SECONDS ?? 60);
const SEEDS = (process.env.BENCH_START_SEEDS ?? '0,1,2').split(',');
const SIZE = 512;

function evalRun(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'eval', ...args, '--json'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`eval exited with ${code}`)),
    );
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const dir = mkdtempSync(path.join(tmpdir(), 'impartial-bench-starts-'));
const results = {};
try {
  const counts = (process.env.BENCH_START_CHANNELS ?? '1,3,6,8').split(',').map(Number);
  // 3 and 8 channels ship no model of their own: they start from the 6-channel one, adapted (adaptChannels).
  for (const [channels, keep] of [
    [1, [1]],
    [3, [0, 1, 2]],
    [6, [0, 1, 2, 3, 4, 5]],
    [8, [0, 1, 2, 3, 4, 5, 6, 7]],
  ].filter(([c]) => counts.includes(c))) {
    const sample = syntheticCells({ width: SIZE, height: SIZE, channels: Math.max(6, channels), seed: 77 });
    const image = selectChannels(sample.image, keep);
    const n = SIZE * SIZE;
    const planes = keep.map((_, c) =>
      Uint16Array.from(image.data.subarray(c * n, (c + 1) * n), (v) => Math.round(Math.max(0, Math.min(1, v)) * 60000)),
    );
    const file = path.join(dir, `c${channels}.tif`),
      labels = path.join(dir, `c${channels}-labels.tif`);
    writeFileSync(file, writeTiff(imagejHyperstack(planes, SIZE, SIZE)));
    writeFileSync(labels, labelTiff(SIZE, SIZE, sample.labels.data));
    const runs = [];
    for (const seed of SEEDS)
      for (const init of ['generic', 'scratch']) {
        const args = ['--images', file, '--labels', labels, '--seconds', String(SECONDS), '--seed', seed];
        const r = await evalRun([...args, '--init', init]);
        runs.push({ init, seed: Number(seed), f1: r.f1, steps: r.steps });
        log(`${channels} channel(s), ${init}, seed ${seed}: F1 ${r.f1.toFixed(3)} (${r.steps} steps)`);
      }
    const of = (init) => median(runs.filter((r) => r.init === init).map((r) => r.f1));
    results[`c${channels}`] = { generic: of('generic'), scratch: of('scratch'), runs };
    const [shipped, random] = [of('generic'), of('scratch')].map((x) => x.toFixed(3));
    log(`${channels} channel(s): median F1 ${shipped} from the shipped model, ${random} from random`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify({ seconds: SECONDS, size: SIZE, ...results }));
