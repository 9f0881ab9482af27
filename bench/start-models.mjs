// Starting models against random weights, for 1, 3, 6 and 8 channels (in `npm run bench -- starts`, or
// alone: node bench/start-models.mjs after a build). For each channel count, a synthetic 512^2 image with
// ground truth that no pretraining saw (seed 77, stored as 16-bit counts; 1 channel: the whole-cell stain
// alone; 3: nuclear, whole-cell, cytoplasm; 6 and 8: those and 3 or 5 markers; 3 and 8 start from the
// 6-channel model, adapted), BENCH_START_FRACTION of its cells outlined (default 0.2), `impartial eval` for
// BENCH_START_SECONDS (default 60) from the starting model (--init generic) and from random weights
// (--init scratch), seeds 0, 1, 2 (BENCH_START_SEEDS). Prints F1 of each at the end and after a third of the
// time, and the medians. BENCH_START_CHANNELS=1 runs one count; BENCH_START_REALISTIC=1 draws realistic tissue.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { labelTiff, selectChannels, syntheticCells } from '@impartial/shared';
import { countsTiff } from './counts-tiff.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(repo, 'bridge-server', 'bin', 'impartial.js');
const log = (m) => process.stderr.write(`${m}\n`);
const SECONDS = Number(process.env.BENCH_START_SECONDS ?? 60);
const SEEDS = (process.env.BENCH_START_SEEDS ?? '0,1,2').split(',');
// The share of cells outlined (the paper's 20%; a person's first minute is closer to 2%) and whether the
// images are the realistic kind (blur, shot noise, fading membranes, membrane-only cells).
const FRACTION = process.env.BENCH_START_FRACTION ?? '0.2';
const REALISTIC = process.env.BENCH_START_REALISTIC === '1';
const SIZE = 512;
const EARLY = Math.round(SECONDS / 3);
const EARLY_KEY = `f1At${EARLY}s`;

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
    const sample = syntheticCells({
      width: SIZE,
      height: SIZE,
      channels: Math.max(6, channels),
      seed: 77,
      realistic: REALISTIC,
    });
    const file = path.join(dir, `c${channels}.tif`),
      labels = path.join(dir, `c${channels}-labels.tif`);
    writeFileSync(file, countsTiff(selectChannels(sample.image, keep)));
    writeFileSync(labels, labelTiff(SIZE, SIZE, sample.labels.data));
    const runs = [];
    for (const seed of SEEDS)
      for (const init of ['generic', 'scratch']) {
        const args = ['--images', file, '--labels', labels, '--seconds', String(SECONDS), '--seed', seed];
        // F1 after a third of the time too: the head start a model gives, beside where both end up.
        args.push('--scribble-fraction', FRACTION, '--checkpoints', String(EARLY));
        const r = await evalRun([...args, '--init', init]);
        const f1Early = r.f1_at[String(EARLY)];
        runs.push({ init, seed: Number(seed), f1: r.f1, [EARLY_KEY]: f1Early, steps: r.steps });
        log(
          `${channels} channel(s), ${init}, seed ${seed}: F1 ${r.f1.toFixed(3)} (${r.steps} steps); ` +
            `after ${EARLY} s ${f1Early?.toFixed(3)}`,
        );
      }
    const of = (init, key = 'f1') => median(runs.filter((r) => r.init === init).map((r) => r[key]));
    results[`c${channels}`] = {
      generic: of('generic'),
      scratch: of('scratch'),
      [`${EARLY_KEY}Generic`]: of('generic', EARLY_KEY),
      [`${EARLY_KEY}Scratch`]: of('scratch', EARLY_KEY),
      runs,
    };
    const [shipped, random] = [of('generic'), of('scratch')].map((x) => x.toFixed(3));
    const [shippedEarly, randomEarly] = [of('generic', EARLY_KEY), of('scratch', EARLY_KEY)].map((x) => x.toFixed(3));
    log(
      `${channels} channel(s): median F1 ${shipped} from the shipped model, ${random} from random ` +
        `(after ${EARLY} s: ${shippedEarly}, ${randomEarly})`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(
  JSON.stringify({ seconds: SECONDS, size: SIZE, fraction: Number(FRACTION), realistic: REALISTIC, ...results }),
);
