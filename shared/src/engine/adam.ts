import * as tf from '@tensorflow/tfjs-core';

export interface AdamOptions {
  learningRate: number;
  /** L2 weight decay added to the gradients, as torch.optim.Adam(weight_decay) does. */
  weightDecay: number;
  beta1?: number;
  beta2?: number;
  /** tfjs' float32 default, so both optimisers below take the same steps. */
  epsilon?: number;
}

/** Applies one optimiser step to variables from their gradients (keyed by variable name). */
export interface WeightUpdate {
  apply(vars: tf.Variable[], grads: Record<string, tf.Tensor>): void;
  dispose(): void;
}

/**
 * Adam (+ L2 decay) on the GPU backends: tfjs' own optimiser, which keeps the weights and moments
 * on the device.
 */
export class TfjsAdam implements WeightUpdate {
  private readonly optimizer: tf.AdamOptimizer;

  constructor(private readonly options: AdamOptions) {
    this.optimizer = tf.train.adam(
      options.learningRate,
      options.beta1 ?? 0.9,
      options.beta2 ?? 0.999,
      options.epsilon ?? 1e-7,
    );
  }

  apply(vars: tf.Variable[], grads: Record<string, tf.Tensor>): void {
    const decay = this.options.weightDecay;
    tf.tidy(() => {
      const decayed: Record<string, tf.Tensor> = {};
      for (const v of vars) decayed[v.name] = decay ? tf.add(grads[v.name]!, tf.mul(v, decay)) : grads[v.name]!;
      this.optimizer.applyGradients(decayed as unknown as Parameters<tf.AdamOptimizer['applyGradients']>[0]);
    });
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

/**
 * The same Adam as one plain loop over each weight array, for backends whose tensors live in CPU
 * memory (wasm, cpu): tfjs' optimiser spends ~15 small kernels per variable, each with its own
 * allocation, which on wasm cost more than the arithmetic (a few hundred thousand weights).
 */
export class CpuAdam implements WeightUpdate {
  private readonly moments = new Map<string, { m: Float32Array; v: Float32Array }>();
  private steps = 0;

  constructor(private readonly options: AdamOptions) {}

  apply(vars: tf.Variable[], grads: Record<string, tf.Tensor>): void {
    const { learningRate: lr, weightDecay: decay } = this.options;
    const b1 = this.options.beta1 ?? 0.9,
      b2 = this.options.beta2 ?? 0.999,
      eps = this.options.epsilon ?? 1e-7;
    this.steps++;
    const c1 = 1 / (1 - b1 ** this.steps),
      c2 = 1 / (1 - b2 ** this.steps);
    for (const variable of vars) {
      const g = grads[variable.name]!.dataSync() as Float32Array;
      const w = variable.dataSync() as Float32Array;
      let state = this.moments.get(variable.name);
      if (!state) {
        state = { m: new Float32Array(w.length), v: new Float32Array(w.length) };
        this.moments.set(variable.name, state);
      }
      const { m, v } = state;
      const next = new Float32Array(w.length);
      for (let i = 0; i < w.length; i++) {
        const gi = g[i]! + decay * w[i]!;
        const mi = b1 * m[i]! + (1 - b1) * gi;
        const vi = b2 * v[i]! + (1 - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        next[i] = w[i]! - (lr * (mi * c1)) / (Math.sqrt(vi * c2) + eps);
      }
      const updated = tf.tensor(next, variable.shape, 'float32');
      variable.assign(updated);
      updated.dispose();
    }
  }

  dispose(): void {
    this.moments.clear();
  }
}

/** The optimiser that suits the active backend. */
export function adamForBackend(options: AdamOptions): WeightUpdate {
  return ['wasm', 'cpu'].includes(tf.getBackend()) ? new CpuAdam(options) : new TfjsAdam(options);
}
