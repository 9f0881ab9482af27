import * as tf from '@tensorflow/tfjs-core';
import { initWeights, PatchSampler, syntheticCells, synthesizeScribbles, normalizeImage, Trainer, DEFAULT_UNET } from '@impartial/shared';
import { initBackend } from '@impartial/shared/node';
const b = await initBackend(); console.error(b.description);
const config = { ...DEFAULT_UNET, inChannels: 2, depth: 3, base: 16 };
const sample = syntheticCells({ width: 256, height: 256, channels: 2, seed: 1 });
const sampler = new PatchSampler([normalizeImage(sample.image)], [synthesizeScribbles(sample.labels, { fraction: 0.2, seed: 1 }).scribbles], { seed: 1 });
const weights = initWeights(config, 0);
const trainer = new Trainer(config, weights);
const batch = sampler.batch(4);
for (let i = 0; i < 3; i++) await trainer.step(batch);
const t0 = performance.now(); for (let i = 0; i < 5; i++) await trainer.step(batch); console.error('step', ((performance.now() - t0) / 5).toFixed(0), 'ms');
const prof = await tf.profile(async () => { await trainer.step(batch); });
const by = new Map();
for (const k of prof.kernels) { const e = by.get(k.name) ?? { ms: 0, n: 0 }; e.ms += k.kernelTimeMs; e.n++; by.set(k.name, e); }
const total = [...by.values()].reduce((s, e) => s + e.ms, 0);
console.error('total kernel ms', total.toFixed(0));
for (const [n, e] of [...by.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) console.error(n.padEnd(28), e.ms.toFixed(1).padStart(8), e.n);
