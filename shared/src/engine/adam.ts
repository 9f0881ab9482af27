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

/**
 * Where Adam stands: the steps taken (its bias correction depends on them) and each variable's first
 * (m) and second (v) moments, keyed by variable name. Both optimisers below read and write the same
 * form, so a training may resume on another backend.
 */
export interface AdamState {
  steps: number;
  moments: Record<string, { m: Float32Array; v: Float32Array }>;
}

/** Applies one optimiser step to variables from their gradients (keyed by variable name). */
export interface WeightUpdate {
  apply(vars: tf.Variable[], grads: Record<string, tf.Tensor>): void;
  /** A copy of the optimiser's state (no moments before the first step). */
  state(): Promise<AdamState>;
  /**
   * Goes on from a saved state for these variables; throws when the state's variables or their sizes
   * differ from them. A state of no steps and no moments starts afresh.
   */
  restore(vars: tf.Variable[], state: AdamState): Promise<void>;
  /** The step size from the next step on (a schedule over the budget). */
  setLearningRate(rate: number): void;
  dispose(): void;
}

/** Throws unless the state has moments for exactly these variables, each of the variable's size. */
function checkState(vars: tf.Variable[], state: AdamState): void {
  if (!Number.isInteger(state.steps) || state.steps < 0)
    throw new Error(`optimiser state: bad step count ${state.steps}`);
  const names = Object.keys(state.moments);
  if (state.steps === 0 && names.length === 0) return;
  const expected = new Set(vars.map((v) => v.name));
  const missing = [...expected].filter((n) => !(n in state.moments)),
    extra = names.filter((n) => !expected.has(n));
  if (missing.length || extra.length) {
    const list = (xs: string[]) => (xs.length > 3 ? `${xs.slice(0, 3).join(', ')}, ...` : xs.join(', '));
    throw new Error(
      `optimiser state does not match the model: ${missing.length} variable(s) missing (${list(missing)}), ` +
        `${extra.length} unknown (${list(extra)})`,
    );
  }
  for (const v of vars) {
    const { m, v: second } = state.moments[v.name]!;
    if (m.length !== v.size || second.length !== v.size)
      throw new Error(`optimiser state for ${v.name} has ${m.length}/${second.length} values, the variable ${v.size}`);
  }
}

/**
 * Adam (+ L2 decay) on the GPU backends: tfjs' own optimiser, which keeps the weights and moments
 * on the device.
 */
export class TfjsAdam implements WeightUpdate {
  private readonly optimizer: tf.AdamOptimizer;
  /** Variable names in the order of the optimiser's moments: tfjs keeps them by position, not by name. */
  private order: string[] | null = null;

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
    this.order ??= vars.map((v) => v.name);
    const byName = new Map(vars.map((v) => [v.name, v]));
    if (this.order.length !== vars.length || this.order.some((n) => !byName.has(n)))
      throw new Error('the variables changed between optimiser steps');
    tf.tidy(() => {
      // As a list, not a record: a record's integer-like keys (tfjs' default variable names) would reorder.
      const decayed = this.order!.map((name) => {
        const g = grads[name]!;
        return { name, tensor: decay ? tf.add(g, tf.mul(byName.get(name)!, decay)) : g };
      });
      this.optimizer.applyGradients(decayed);
    });
  }

  async state(): Promise<AdamState> {
    // getWeights: the iteration count (a new scalar), then every first moment `NAME/m`, then every `NAME/v`.
    const [iter, ...moments] = await this.optimizer.getWeights();
    try {
      const steps = (await iter!.tensor.data())[0]!;
      const count = moments.length / 2;
      const out: AdamState['moments'] = {};
      for (let i = 0; i < count; i++) {
        const m = moments[i]!,
          v = moments[count + i]!;
        out[m.name.replace(/\/m$/, '')] = {
          m: new Float32Array(await m.tensor.data()),
          v: new Float32Array(await v.tensor.data()),
        };
      }
      return { steps, moments: out };
    } finally {
      iter!.tensor.dispose();
    }
  }

  async restore(vars: tf.Variable[], state: AdamState): Promise<void> {
    checkState(vars, state);
    const fresh = Object.keys(state.moments).length === 0;
    const [oldIter, ...oldMoments] = await this.optimizer.getWeights();
    const moment = (key: 'm' | 'v') =>
      fresh
        ? []
        : vars.map((v) => ({
            name: `${v.name}/${key}`,
            tensor: tf.tensor(state.moments[v.name]![key], v.shape, 'float32'),
          }));
    const given = [{ name: 'iter', tensor: tf.scalar(state.steps, 'int32') }, ...moment('m'), ...moment('v')];
    try {
      // setWeights sets the bias-correction powers (accBeta) from the iteration count and makes the
      // moments new variables (which hold their own reference to the data).
      await this.optimizer.setWeights(given);
    } finally {
      tf.dispose([oldIter!.tensor, ...oldMoments.map((w) => w.tensor), ...given.map((w) => w.tensor)]);
    }
    this.order = fresh ? null : vars.map((v) => v.name);
  }

  setLearningRate(rate: number): void {
    // tfjs' Adam reads its (protected) learningRate at every applyGradients.
    (this.optimizer as unknown as { learningRate: number }).learningRate = rate;
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

  constructor(private options: AdamOptions) {}

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

  async state(): Promise<AdamState> {
    const moments: AdamState['moments'] = {};
    for (const [name, { m, v }] of this.moments) moments[name] = { m: m.slice(), v: v.slice() };
    return { steps: this.steps, moments };
  }

  async restore(vars: tf.Variable[], state: AdamState): Promise<void> {
    checkState(vars, state);
    this.moments.clear();
    for (const [name, { m, v }] of Object.entries(state.moments))
      this.moments.set(name, { m: Float32Array.from(m), v: Float32Array.from(v) });
    this.steps = state.steps;
  }

  setLearningRate(rate: number): void {
    this.options = { ...this.options, learningRate: rate };
  }

  dispose(): void {
    this.moments.clear();
  }
}

/** The optimiser that suits the active backend. */
export function adamForBackend(options: AdamOptions): WeightUpdate {
  return ['wasm', 'cpu'].includes(tf.getBackend()) ? new CpuAdam(options) : new TfjsAdam(options);
}
