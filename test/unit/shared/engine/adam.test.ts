// Tests of shared/src/engine/adam.ts: the per-array Adam loop (CpuAdam) against tfjs' optimiser (TfjsAdam).
import assert from 'node:assert/strict';
import test from 'node:test';
import { CpuAdam, TfjsAdam, type WeightUpdate } from '@impartial/shared';
import { initBackend } from '@impartial/shared/node';
import * as tf from '@tensorflow/tfjs-core';

await initBackend();

test("Adam as one loop per weight array (wasm, cpu) steps as tfjs' optimiser does, rate changes too", async () => {
  const shapes: [number, number][] = [
    [3, 4],
    [5, 1],
  ];
  const run = (make: (o: { learningRate: number; weightDecay: number }) => WeightUpdate, slowDown = true) =>
    tf.tidy(() => {
      const vars = shapes.map((s, i) =>
        tf.variable(
          tf.tensor2d(
            Array.from({ length: s[0] * s[1] }, (_, k) => Math.sin(i * 31 + k)),
            s,
          ),
          true,
          `adam-check-${i}-${Math.random()}`,
        ),
      );
      const optimiser = make({ learningRate: 0.01, weightDecay: 0.1 });
      for (let step = 0; step < 5; step++) {
        if (step === 3 && slowDown) optimiser.setLearningRate(0.002);
        const grads: Record<string, tf.Tensor> = {};
        vars.forEach((v, i) => {
          grads[v.name] = tf.tensor2d(
            Array.from({ length: v.size }, (_, k) => Math.cos(step * 7 + i * 13 + k) * (step + 1)),
            v.shape as [number, number],
          );
        });
        optimiser.apply(vars, grads);
      }
      optimiser.dispose();
      const values = vars.map((v) => Array.from(v.dataSync()));
      vars.forEach((v) => {
        v.dispose();
      });
      return values;
    });
  const loop = run((o) => new CpuAdam(o)),
    reference = run((o) => new TfjsAdam(o)),
    constant = run((o) => new CpuAdam(o), false);
  assert.ok(Math.abs(loop[0]![0]! - constant[0]![0]!) > 1e-4, 'the lower rate of the last two steps shows');
  const start = shapes.map((s, i) => Array.from({ length: s[0] * s[1] }, (_, k) => Math.sin(i * 31 + k)));
  for (const [i, values] of loop.entries()) {
    for (const [k, v] of values.entries()) {
      assert.ok(Math.abs(v - reference[i]![k]!) < 1e-6, `weight ${i}[${k}]: ${v} vs ${reference[i]![k]}`);
      assert.ok(Math.abs(v - start[i]![k]!) > 1e-3, 'the weights moved');
    }
  }
});
