import * as tf from '@tensorflow/tfjs-core';

/** ImPartial's loss weights: foreground scribbles, background scribbles, reconstruction. */
export const LOSS_WEIGHTS = { foreground: 0.45, background: 0.45, reconstruction: 0.1 } as const;

export const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

export interface LossInputs {
  /** Raw network output (N, H, W, K + K*C). */
  output: tf.Tensor4D;
  /** Untouched patch (N, H, W, C). */
  target: tf.Tensor4D;
  /** 1 at blind spots (N, H, W, C). */
  blindMask: tf.Tensor4D;
  /** Scribble indicators (N, H, W). */
  foreground: tf.Tensor3D;
  background: tf.Tensor3D;
  components: [number, number];
}

export interface LossTerms {
  total: tf.Scalar;
  foreground: tf.Scalar;
  background: tf.Scalar;
  reconstruction: tf.Scalar;
}

/**
 * Log of the summed responsibilities of the first Kf components (cell) and of the rest
 * (background), clamped at log(1e-20) like the original. Computed from the softmax the
 * reconstruction term needs anyway, which is cheaper than three log-sum-exps on wasm.
 */
export function logClassProbabilities(
  pi: tf.Tensor4D,
  components: [number, number],
): { logCell: tf.Tensor3D; logBackground: tf.Tensor3D } {
  const [Kf, Kb] = components;
  const cell = tf.sum(tf.slice(pi, [0, 0, 0, 0], [-1, -1, -1, Kf]), 3);
  const background = tf.sum(tf.slice(pi, [0, 0, 0, Kf], [-1, -1, -1, Kb]), 3);
  return {
    logCell: tf.log(tf.maximum(cell, 1e-20)) as tf.Tensor3D,
    logBackground: tf.log(tf.maximum(background, 1e-20)) as tf.Tensor3D,
  };
}

/** Responsibilities pi_k: softmax over the K component logits. */
export function responsibilities(output: tf.Tensor4D, components: [number, number]): tf.Tensor4D {
  return tf.softmax(tf.slice(output, [0, 0, 0, 0], [-1, -1, -1, components[0] + components[1]]));
}

/** Cross-entropy over the scribbled pixels of each patch, averaged over the patches that have any. */
export function scribbleLoss(logP: tf.Tensor3D, scribble: tf.Tensor3D): tf.Scalar {
  const n = tf.sum(scribble, [1, 2]);
  const perPatch = tf.div(tf.sum(tf.mul(scribble, tf.neg(logP)), [1, 2]), tf.maximum(n, 1));
  const patches = tf.maximum(tf.sum(tf.cast(tf.greater(n, 0), 'float32')), 1);
  return tf.div(tf.sum(perPatch), patches) as tf.Scalar;
}

/**
 * "Quantized imputation": each component has one patch-level mean per channel (responsibility-
 * weighted average of its mean map); each pixel is reconstructed as the responsibility-weighted
 * mix of those constants; Gaussian NLL (sigma 1) on blind-spot pixels, mean over patches and channels.
 */
export function reconstructionLoss(
  output: tf.Tensor4D,
  pi: tf.Tensor4D,
  target: tf.Tensor4D,
  blindMask: tf.Tensor4D,
  components: [number, number],
): tf.Scalar {
  const [N, H, W, C] = target.shape;
  const K = components[0] + components[1];
  const means = tf.reshape(tf.slice(output, [0, 0, 0, K], [-1, -1, -1, K * C]), [N, H, W, C, K]);
  const pi5 = tf.reshape(pi, [N, H, W, 1, K]);
  const piSum = tf.add(tf.sum(pi, [1, 2]), 1e-8); // N K
  const mu = tf.div(tf.sum(tf.mul(pi5, means), [1, 2]), tf.reshape(piSum, [N, 1, K])); // N C K
  const xhat = tf.sum(tf.mul(pi5, tf.reshape(mu, [N, 1, 1, C, K])), 4); // N H W C
  const nll = tf.add(tf.mul(tf.square(tf.sub(target, xhat)), 0.5), HALF_LOG_2PI);
  const perPatch = tf.div(tf.sum(tf.mul(blindMask, nll), [1, 2]), tf.sum(blindMask, [1, 2])); // N C
  return tf.mean(perPatch) as tf.Scalar;
}

export function impartialLoss(inputs: LossInputs): LossTerms {
  const pi = responsibilities(inputs.output, inputs.components);
  const { logCell, logBackground } = logClassProbabilities(pi, inputs.components);
  const foreground = scribbleLoss(logCell, inputs.foreground);
  const background = scribbleLoss(logBackground, inputs.background);
  const reconstruction = reconstructionLoss(inputs.output, pi, inputs.target, inputs.blindMask, inputs.components);
  const total = tf.addN([
    tf.mul(foreground, LOSS_WEIGHTS.foreground),
    tf.mul(background, LOSS_WEIGHTS.background),
    tf.mul(reconstruction, LOSS_WEIGHTS.reconstruction),
  ]) as tf.Scalar;
  return { total, foreground, background, reconstruction };
}
