import * as tf from '@tensorflow/tfjs-core';
import type { ImpartialModel } from './model.js';
import { componentCount, type UNetWeights, weightsFromTensors } from './unet.js';

/**
 * A model for another channel count, made from one pretrained with its channels in random order
 * (impartial pretrain), whose per-channel weights are therefore interchangeable: every new input
 * channel takes the first convolution's weights averaged over the old channels (scaled by old/new
 * count, so a layer's input stays the same size), and every new channel's reconstruction maps take
 * the head's averaged mean-map weights. The rest of the net is shared as it is.
 */
export function adaptChannels(model: ImpartialModel, channels: number): ImpartialModel {
  const from = model.config.inChannels;
  if (!Number.isInteger(channels) || channels < 1) throw new RangeError(`channel count ${channels}`);
  const K = componentCount(model.config);
  const tensors = new Map<string, tf.Tensor>();
  for (const [name, v] of model.weights) {
    if (name === 'inc.conv1.weight') tensors.set(name, spreadInputs(v, from, channels));
    else if (name === 'head.weight' || name === 'head.bias') tensors.set(name, spreadMeanMaps(v, K, from, channels));
    else tensors.set(name, v.clone());
  }
  const weights: UNetWeights = weightsFromTensors(tensors);
  for (const t of tensors.values()) t.dispose();
  return {
    config: { ...model.config, inChannels: channels },
    weights,
    lineage: { ...model.lineage, channels: Array.from({ length: channels }, (_, c) => `any${c}`) },
  };
}

/** (3, 3, from, out) -> (3, 3, channels, out): each new input channel gets the old ones' mean times from / channels. */
function spreadInputs(w: tf.Tensor, from: number, channels: number): tf.Tensor {
  return tf.tidy(() => {
    const mean = tf.mul(tf.mean(w, 2, true), from / channels);
    return tf.concat(
      Array.from({ length: channels }, () => mean),
      2,
    );
  });
}

/** The head's last axis: K component logits, then K mean maps per channel (channel-major); the maps are spread. */
function spreadMeanMaps(w: tf.Tensor, K: number, from: number, channels: number): tf.Tensor {
  return tf.tidy(() => {
    const last = w.rank - 1;
    const logits = tf.slice(w, last === 0 ? [0] : [0, 0, 0, 0], last === 0 ? [K] : [-1, -1, -1, K]);
    const maps = tf.slice(w, last === 0 ? [K] : [0, 0, 0, K], last === 0 ? [K * from] : [-1, -1, -1, K * from]);
    const perChannel = tf.reshape(maps, [...w.shape.slice(0, last), from, K]);
    const mean = tf.mean(perChannel, last, false); // (..., K)
    return tf.concat([logits, ...Array.from({ length: channels }, () => mean)], last);
  });
}
