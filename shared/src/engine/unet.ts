import * as tf from '@tensorflow/tfjs-core';
import { TRAINING_DEFAULTS } from '../protocol/settings.js';
import { convLayerKernel, hasConvLayerKernel, seedConvLayerMasks } from './conv-layer.js';

/** Network configuration; stored with every model version. */
export interface UNetConfig {
  /** Input channels (the training channels of the image). */
  inChannels: number;
  /** Number of 2x poolings (ImPartial: 4; CPU default 3). */
  depth: number;
  /** Filters of the first level; doubles per level (ImPartial: 64; CPU default 16). */
  base: number;
  /** Dropout after each conv of the down/up blocks (ImPartial: 0.5, ours 0.2); also Monte-Carlo dropout inference's. */
  dropout: number;
  /** Mixture components [foreground, background] (ImPartial: [2, 2]). */
  components: [number, number];
}

export const DEFAULT_UNET: Omit<UNetConfig, 'inChannels'> = {
  depth: TRAINING_DEFAULTS.depth,
  base: TRAINING_DEFAULTS.base,
  dropout: TRAINING_DEFAULTS.dropout,
  components: [2, 2],
};

/**
 * The net a training runs: its starting model's with this training's dropout (the rate is a training
 * choice; the weights do not depend on it), or a new one of the given shape.
 */
export function trainingConfig(
  start: UNetConfig | undefined,
  net: Pick<UNetConfig, 'inChannels' | 'depth' | 'base'> & { dropout?: number },
): UNetConfig {
  const dropout = net.dropout ?? TRAINING_DEFAULTS.dropout;
  return start ? { ...start, dropout } : { ...DEFAULT_UNET, ...net, dropout };
}

export function componentCount(config: UNetConfig): number {
  return config.components[0] + config.components[1];
}

/** K component logits, then K mean maps per reconstructed input channel. */
export function outputChannels(config: UNetConfig): number {
  const K = componentCount(config);
  return K + K * config.inChannels;
}

interface ConvSpec {
  name: string;
  inC: number;
  outC: number;
  size: number;
}

/** The conv layers of the milesial-style bilinear U-Net ImPartial uses (bottleneck width halved). */
export function convSpecs(config: UNetConfig): ConvSpec[] {
  const { depth, base, inChannels } = config;
  const specs: ConvSpec[] = [];
  const double = (name: string, inC: number, outC: number, mid = outC) => {
    specs.push({ name: `${name}.conv1`, inC, outC: mid, size: 3 }, { name: `${name}.conv2`, inC: mid, outC, size: 3 });
  };
  double('inc', inChannels, base);
  const ch = Array.from({ length: depth }, (_, i) => base * 2 ** i).concat(base * 2 ** (depth - 1));
  for (let i = 0; i < depth; i++) double(`down${i}`, ch[i]!, ch[i + 1]!);
  for (let i = depth - 1; i >= 0; i--) double(`up${i}`, 2 * ch[i]!, i > 0 ? base * 2 ** (i - 1) : base, ch[i]!);
  specs.push({ name: 'head', inC: base, outC: outputChannels(config), size: 1 });
  return specs;
}

export type UNetWeights = Map<string, tf.Variable>;

let weightSetCounter = 0;

/** Wraps named tensors as trainable variables; tfjs variable names are global, so each set gets its own prefix. */
export function weightsFromTensors(tensors: ReadonlyMap<string, tf.Tensor>): UNetWeights {
  const prefix = `unet${++weightSetCounter}`;
  const weights: UNetWeights = new Map();
  for (const [name, t] of tensors) weights.set(name, tf.variable(t, true, `${prefix}/${name}`));
  return weights;
}

/**
 * He-normal weights for the ReLU convs, a small head (outputs start near 0: p(cell) near 0.5 and
 * mean maps near 0, so early steps are not spent undoing huge initial losses), zero biases;
 * deterministic for a seed.
 */
export function initWeights(config: UNetConfig, seed = 0): UNetWeights {
  const tensors = new Map<string, tf.Tensor>();
  convSpecs(config).forEach((s, i) => {
    const fanIn = s.inC * s.size * s.size;
    const std = s.name === 'head' ? 0.1 * Math.sqrt(1 / fanIn) : Math.sqrt(2 / fanIn);
    tensors.set(
      `${s.name}.weight`,
      tf.randomNormal([s.size, s.size, s.inC, s.outC], 0, std, 'float32', seed * 1000 + i),
    );
    tensors.set(`${s.name}.bias`, tf.zeros([s.outC]));
  });
  const weights = weightsFromTensors(tensors);
  for (const t of tensors.values()) t.dispose();
  return weights;
}

/** xorshift32 state for dropout masks drawn in JS; random unless a training or a test seeds it. */
let maskState = (Math.random() * 0xffffffff) >>> 0 || 1;

/**
 * Restarts the dropout masks' sequence from a seed, in JS and in the fused layer kernel alike: two
 * runs (two backends, or two trainings with the same seed and step budget) then draw the same masks.
 */
export function seedDropoutMasks(seed: number): void {
  maskState = seed >>> 0 || 1;
  seedConvLayerMasks(seed);
}

/**
 * Dropout as one multiply by a {0, 1/keep} mask drawn in JS: tf.dropout draws its uniforms with
 * seedrandom and spends three more full passes (add, floor, divide), a large share of a CPU step.
 */
export function dropout(x: tf.Tensor4D, rate: number): tf.Tensor4D {
  const n = x.size,
    keep = 1 - rate,
    scale = 1 / keep;
  const mask = new Float32Array(n);
  let s = maskState;
  if (rate === 0.5) {
    for (let i = 0; i < n; i += 32) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const bits = s,
        end = Math.min(32, n - i);
      for (let b = 0; b < end; b++) mask[i + b] = (bits >>> b) & 1 ? scale : 0;
    }
  } else {
    const threshold = keep * 4294967296;
    for (let i = 0; i < n; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      mask[i] = s >>> 0 < threshold ? scale : 0;
    }
  }
  maskState = s;
  return tf.mul(x, tf.tensor4d(mask, x.shape));
}

export interface ForwardOptions {
  /** Apply dropout (training, and Monte-Carlo inference). */
  dropout: boolean;
}

/**
 * Forward pass: x is (N, H, W, C) with H and W multiples of 2^depth; returns raw outputs
 * (N, H, W, K + K*C). Dropout follows the ReLU, which equals dropout before it (mask scaling >= 0)
 * and lets conv + bias + ReLU run as one fused kernel.
 */
export function forward(
  config: UNetConfig,
  weights: UNetWeights,
  x: tf.Tensor4D,
  options: ForwardOptions,
): tf.Tensor4D {
  const w = (name: string) => {
    const v = weights.get(name);
    if (!v) throw new Error(`missing weight ${name}`);
    return v;
  };
  // One kernel per layer where the backend has it (conv-layer.ts), else tfjs ops.
  const oneKernel = hasConvLayerKernel();
  const layer = (name: string, inputs: tf.Tensor4D[], relu: boolean, rate: number) => {
    const filter = w(`${name}.weight`) as tf.Tensor4D,
      bias = w(`${name}.bias`) as tf.Tensor1D;
    if (oneKernel) return convLayerKernel(inputs, filter, bias, { relu, dropout: rate });
    const x = inputs.length === 1 ? inputs[0]! : tf.concat(inputs, 3);
    const y = tf.fused.conv2d({ x, filter, strides: 1, pad: 'same', bias, activation: relu ? 'relu' : 'linear' });
    return rate > 0 ? dropout(y, rate) : y;
  };
  const block = (name: string, inputs: tf.Tensor4D[], withDropout: boolean) => {
    const rate = withDropout && options.dropout ? config.dropout : 0;
    return layer(`${name}.conv2`, [layer(`${name}.conv1`, inputs, true, rate)], true, rate);
  };
  const skips: tf.Tensor4D[] = [block('inc', [x], false)];
  for (let i = 0; i < config.depth; i++)
    skips.push(block(`down${i}`, [tf.maxPool(skips[skips.length - 1]!, 2, 2, 'valid')], true));
  let y = skips.pop()!;
  for (let i = config.depth - 1; i >= 0; i--) {
    const skip = skips.pop()!;
    const up = tf.image.resizeBilinear(y, [skip.shape[1], skip.shape[2]], true);
    y = block(`up${i}`, [skip, up], true);
  }
  return layer('head', [y], false, 0);
}

export function parameterCount(weights: UNetWeights): number {
  let n = 0;
  for (const v of weights.values()) n += v.size;
  return n;
}

/** Multiply-accumulates of one forward pass on an H x W input (convolutions only). */
export function forwardMacs(config: UNetConfig, height: number, width: number): number {
  let macs = 0;
  for (const s of convSpecs(config)) {
    const level =
      s.name.startsWith('inc') || s.name === 'head' || s.name.startsWith('up0')
        ? 0
        : s.name.startsWith('down')
          ? Number(s.name[4]) + 1
          : Number(s.name[2]);
    macs += (height >> level) * (width >> level) * s.inC * s.outC * s.size * s.size;
  }
  return macs;
}

export function disposeWeights(weights: UNetWeights): void {
  for (const v of weights.values()) v.dispose();
}
