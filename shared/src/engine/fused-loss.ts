import * as tf from '@tensorflow/tfjs-core';
import { HALF_LOG_2PI, LOSS_WEIGHTS, type LossInputs, type LossTerms } from './losses.js';

/*
 * The ImPartial loss (losses.ts) and its gradient with respect to the net's output in one pass
 * over the output in JavaScript, for the CPU backends. As tfjs ops it is some thirty small kernels
 * forward and as many backward (softmax, slices, sums, broadcasts): 70-90 ms for a batch of 4 x
 * 128^2 here, which these loops (one exp per component and pixel dominates) do in about half.
 * The loops also exist natively (NativeLoss), for the Node backend to plug in.
 */

/** The loss terms, and what their gradients need: per-pixel factors, kept until backprop asks. */
interface Pass {
  total: number;
  foreground: number;
  background: number;
  reconstruction: number;
  /** Responsibilities pi (N*P, K). */
  pi: Float64Array;
  /** d foreground / d pi_k for k < Kf, and d background / d pi_k for k >= Kf, per pixel. */
  dCell: Float64Array;
  dBackground: Float64Array;
  /** d reconstruction / d pi (N*P, K) and / d means (N*P, C*K). */
  dPiRec: Float64Array;
  dMeans: Float64Array;
  /** The native kernels that computed it, into buffers it may hand on. */
  native?: NativeLoss;
}

interface Shape {
  N: number;
  P: number;
  C: number;
  Kf: number;
  Kb: number;
}

/**
 * forwardPass and outputGradient written natively (the oneDNN addon's, registered by the Node
 * backend): the same sums into the arrays given. For a batch of 4 x 128^2 they take ~3 ms here
 * against ~16 ms in JavaScript (50-100 ms over the first steps, while V8 warms up).
 */
export interface NativeLoss {
  /** terms = [foreground, background, reconstruction]; dims = [N, P, C, Kf, Kb]. */
  lossPass(
    o: Float32Array,
    t: Float32Array,
    blind: Float32Array,
    fg: Float32Array,
    bg: Float32Array,
    dims: number[],
    pi: Float64Array,
    dCell: Float64Array,
    dBackground: Float64Array,
    dPiRec: Float64Array,
    dMeans: Float64Array,
    terms: Float64Array,
  ): void;
  /** out = d(aF foreground + aB background + aR reconstruction) / d output, factors = [aF, aB, aR]. */
  lossGradient(
    pi: Float64Array,
    dCell: Float64Array,
    dBackground: Float64Array,
    dPiRec: Float64Array,
    dMeans: Float64Array,
    dims: number[],
    factors: Float64Array,
    out: Float32Array,
  ): void;
}

let nativeLoss: NativeLoss | null = null;

/** Uses native kernels for the pass and its gradient from now on (null: the JavaScript ones again). */
export function useNativeLoss(kernels: NativeLoss | null): void {
  nativeLoss = kernels;
}

type PassBuffers = Pick<Pass, 'pi' | 'dCell' | 'dBackground' | 'dPiRec' | 'dMeans'>;

/**
 * One set of the native pass's buffers (some 9 MB a step), handed back once a step's gradient has
 * used them: allocating them afresh each step costs more than the pass itself in garbage collection.
 * A pass whose gradient is never asked for keeps its set; the next one then gets new arrays.
 */
let spare: PassBuffers | null = null;

function takeBuffers(pixels: number, K: number, C: number): PassBuffers {
  const s = spare;
  if (s && s.pi.length === pixels * K && s.dMeans.length === pixels * K * C) {
    spare = null;
    return s;
  }
  return {
    pi: new Float64Array(pixels * K),
    dCell: new Float64Array(pixels),
    dBackground: new Float64Array(pixels),
    dPiRec: new Float64Array(pixels * K),
    dMeans: new Float64Array(pixels * K * C),
  };
}

/** The loss: ImPartial's weighting of its three terms. */
function weightedTotal(foreground: number, background: number, reconstruction: number): number {
  return (
    LOSS_WEIGHTS.foreground * foreground +
    LOSS_WEIGHTS.background * background +
    LOSS_WEIGHTS.reconstruction * reconstruction
  );
}

/** The pass on the native kernel when there is one and the inputs are all float32. */
function passOf(
  o: Float32Array,
  t: ArrayLike<number>,
  blind: ArrayLike<number>,
  fg: ArrayLike<number>,
  bg: ArrayLike<number>,
  shape: Shape,
): Pass {
  const native = nativeLoss;
  const f32 = (x: ArrayLike<number>): x is Float32Array => x instanceof Float32Array;
  if (!native || !f32(o) || !f32(t) || !f32(blind) || !f32(fg) || !f32(bg))
    return forwardPass(o, t, blind, fg, bg, shape);
  const { N, P, C, Kf, Kb } = shape;
  const { pi, dCell, dBackground, dPiRec, dMeans } = takeBuffers(N * P, Kf + Kb, C),
    terms = new Float64Array(3);
  native.lossPass(o, t, blind, fg, bg, [N, P, C, Kf, Kb], pi, dCell, dBackground, dPiRec, dMeans, terms);
  const [foreground, background, reconstruction] = terms as unknown as [number, number, number];
  const total = weightedTotal(foreground, background, reconstruction);
  return { total, foreground, background, reconstruction, pi, dCell, dBackground, dPiRec, dMeans, native };
}

/** Cross-entropy of one class over the scribbled pixels, per patch, averaged over patches that have any. */
function scribbleTerm(
  classP: Float64Array,
  scribble: ArrayLike<number>,
  N: number,
  P: number,
  grad: Float64Array,
): number {
  let patches = 0;
  const perPatch = new Float64Array(N),
    count = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let sum = 0,
      s = 0;
    for (let p = n * P; p < (n + 1) * P; p++) {
      if (!scribble[p]) continue;
      s += scribble[p]!;
      sum -= scribble[p]! * Math.log(Math.max(classP[p]!, 1e-20));
    }
    count[n] = s;
    perPatch[n] = sum / Math.max(s, 1);
    if (s > 0) patches++;
  }
  const scale = 1 / Math.max(patches, 1);
  let total = 0;
  for (let n = 0; n < N; n++) {
    total += perPatch[n]!;
    const k = scale / Math.max(count[n]!, 1);
    for (let p = n * P; p < (n + 1) * P; p++)
      grad[p] = scribble[p] && classP[p]! >= 1e-20 ? (-k * scribble[p]!) / classP[p]! : 0;
  }
  return total * scale;
}

function forwardPass(
  o: Float32Array,
  t: ArrayLike<number>,
  blind: ArrayLike<number>,
  fg: ArrayLike<number>,
  bg: ArrayLike<number>,
  { N, P, C, Kf, Kb }: Shape,
): Pass {
  const K = Kf + Kb,
    O = K + K * C,
    pixels = N * P;
  const pi = new Float64Array(pixels * K),
    cell = new Float64Array(pixels),
    back = new Float64Array(pixels);
  for (let i = 0; i < pixels; i++) {
    let max = -Infinity;
    for (let k = 0; k < K; k++) max = Math.max(max, o[i * O + k]!);
    let z = 0;
    for (let k = 0; k < K; k++) z += pi[i * K + k] = Math.exp(o[i * O + k]! - max);
    for (let k = 0; k < K; k++) {
      pi[i * K + k]! /= z;
      if (k < Kf) cell[i]! += pi[i * K + k]!;
      else back[i]! += pi[i * K + k]!;
    }
  }
  const dCell = new Float64Array(pixels),
    dBackground = new Float64Array(pixels);
  const foreground = scribbleTerm(cell, fg, N, P, dCell);
  const background = scribbleTerm(back, bg, N, P, dBackground);
  // Reconstruction: per patch, component means mu[c][k] (responsibility-weighted), each pixel the
  // pi-weighted mix of them; Gaussian NLL on blind spots, mean over patches and channels.
  const dPiRec = new Float64Array(pixels * K),
    dMeans = new Float64Array(pixels * K * C);
  let reconstruction = 0;
  const mu = new Float64Array(C * K),
    D = new Float64Array(K),
    G = new Float64Array(C * K),
    B = new Float64Array(C);
  const xhat = new Float64Array(P * C);
  for (let n = 0; n < N; n++) {
    mu.fill(0);
    D.fill(1e-8);
    G.fill(0);
    B.fill(0);
    for (let p = n * P; p < (n + 1) * P; p++)
      for (let k = 0; k < K; k++) {
        const w = pi[p * K + k]!;
        D[k]! += w;
        for (let c = 0; c < C; c++) mu[c * K + k]! += w * o[p * O + K + c * K + k]!;
      }
    for (let c = 0; c < C; c++) for (let k = 0; k < K; k++) mu[c * K + k]! /= D[k]!;
    for (let p = n * P; p < (n + 1) * P; p++)
      for (let c = 0; c < C; c++) {
        let x = 0;
        for (let k = 0; k < K; k++) x += pi[p * K + k]! * mu[c * K + k]!;
        xhat[(p - n * P) * C + c] = x;
        B[c]! += blind[p * C + c]!;
      }
    for (let c = 0; c < C; c++) {
      let nll = 0;
      for (let p = n * P; p < (n + 1) * P; p++) {
        const d = t[p * C + c]! - xhat[(p - n * P) * C + c]!;
        nll += blind[p * C + c]! * (0.5 * d * d + HALF_LOG_2PI);
      }
      reconstruction += nll / B[c]!;
    }
    // g = d rec / d xhat; through xhat = sum_k pi_k mu_ck to pi directly and to mu (G), then from mu
    // to the means maps and to pi again (mu is a pi-weighted average).
    for (let p = n * P; p < (n + 1) * P; p++)
      for (let c = 0; c < C; c++) {
        const g = (blind[p * C + c]! * (xhat[(p - n * P) * C + c]! - t[p * C + c]!)) / (B[c]! * N * C);
        if (g === 0) continue;
        for (let k = 0; k < K; k++) {
          dPiRec[p * K + k]! += g * mu[c * K + k]!;
          G[c * K + k]! += g * pi[p * K + k]!;
        }
      }
    for (let p = n * P; p < (n + 1) * P; p++)
      for (let k = 0; k < K; k++) {
        const w = pi[p * K + k]! / D[k]!;
        let dp = 0;
        for (let c = 0; c < C; c++) {
          const gk = G[c * K + k]!;
          dMeans[p * K * C + c * K + k] = gk * w;
          dp += (gk * (o[p * O + K + c * K + k]! - mu[c * K + k]!)) / D[k]!;
        }
        dPiRec[p * K + k]! += dp;
      }
  }
  reconstruction /= N * C;
  const total = weightedTotal(foreground, background, reconstruction);
  return { total, foreground, background, reconstruction, pi, dCell, dBackground, dPiRec, dMeans };
}

/** d(sum_j dy_j term_j) / d output, for dy over [total, foreground, background, reconstruction]. */
function outputGradient(pass: Pass, dy: ArrayLike<number>, { N, P, C, Kf, Kb }: Shape): Float32Array {
  const K = Kf + Kb,
    O = K + K * C,
    pixels = N * P;
  const aF = LOSS_WEIGHTS.foreground * dy[0]! + dy[1]!,
    aB = LOSS_WEIGHTS.background * dy[0]! + dy[2]!,
    aR = LOSS_WEIGHTS.reconstruction * dy[0]! + dy[3]!;
  const { pi, dCell, dBackground, dPiRec, dMeans } = pass;
  const out = new Float32Array(pixels * O);
  if (pass.native) {
    const factors = Float64Array.of(aF, aB, aR);
    pass.native.lossGradient(pi, dCell, dBackground, dPiRec, dMeans, [N, P, C, Kf, Kb], factors, out);
    return out;
  }
  const dpi = new Float64Array(K);
  for (let i = 0; i < pixels; i++) {
    let dot = 0;
    for (let k = 0; k < K; k++) {
      dpi[k] = (k < Kf ? aF * dCell[i]! : aB * dBackground[i]!) + aR * dPiRec[i * K + k]!;
      dot += pi[i * K + k]! * dpi[k]!;
    }
    // Through the softmax: dz_k = pi_k (dpi_k - sum_j pi_j dpi_j).
    for (let k = 0; k < K; k++) out[i * O + k] = pi[i * K + k]! * (dpi[k]! - dot);
    for (let j = 0; j < K * C; j++) out[i * O + K + j] = aR * dMeans[i * K * C + j]!;
  }
  return out;
}

/**
 * impartialLoss computed on the CPU in one pass, with its gradient: the same terms (to float
 * rounding), for the wasm and cpu backends, whose tensors live in host memory anyway.
 */
export function impartialLossOnCpu(inputs: LossInputs): LossTerms {
  const { output, target, blindMask, foreground, background, components } = inputs;
  const [N, H, W] = output.shape;
  const shape: Shape = { N, P: H * W, C: target.shape[3], Kf: components[0], Kb: components[1] };
  if (output.shape[3] !== (shape.Kf + shape.Kb) * (1 + shape.C))
    throw new Error(
      `the output has ${output.shape[3]} channels, the loss expects ${(shape.Kf + shape.Kb) * (1 + shape.C)}`,
    );
  const t = target.dataSync(),
    blind = blindMask.dataSync(),
    fg = foreground.dataSync(),
    bg = background.dataSync();
  const fused = tf.customGrad(((out: tf.Tensor) => {
    const pass = passOf(out.dataSync() as Float32Array, t, blind, fg, bg, shape);
    return {
      value: tf.tensor1d([pass.total, pass.foreground, pass.background, pass.reconstruction]),
      gradFunc: (dy: tf.Tensor) => {
        const grad = tf.tensor(outputGradient(pass, dy.dataSync(), shape), out.shape);
        // The native pass's buffers go back for the next step (the JS one's to the collector).
        if (pass.native) spare = pass;
        return grad;
      },
    };
  }) as never) as (out: tf.Tensor) => tf.Tensor1D;
  const terms = fused(output);
  const term = (i: number) => tf.reshape(tf.slice(terms, [i], [1]), []) as tf.Scalar;
  return { total: term(0), foreground: term(1), background: term(2), reconstruction: term(3) };
}
