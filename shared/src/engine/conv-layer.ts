import * as tf from '@tensorflow/tfjs-core';

/*
 * One U-Net layer: dropout(relu(conv(concat(inputs), filter) + bias)). A backend may register one
 * kernel for its forward pass and one for all its gradients (Node registers oneDNN's on wasm);
 * tfjs then runs 2 kernels a layer instead of about 12 (concat, conv, bias add, ReLU, mask upload
 * and multiply, and their gradients), each with a full pass over memory.
 *
 * Kernel contract: ImpartialConvLayer takes inputs {x0, x1?, filter, bias} (NHWC, HWIO, 'same'
 * padding, stride 1) and attrs {relu, dropout, seed}; it returns the layer's output. Dropout keeps
 * a unit with a probability of 1 - dropout, decided by a hash of (seed, element index), so no mask
 * is stored. ImpartialConvLayerGrad takes the same inputs plus {out, dOut} and returns the
 * gradients [dx0, dx1?, dFilter, dBias].
 */
export const CONV_LAYER = 'ImpartialConvLayer';
export const CONV_LAYER_GRAD = 'ImpartialConvLayerGrad';

export interface ConvLayerOptions {
  relu: boolean;
  /** Dropout rate after the activation (0: none). */
  dropout: number;
}

/** Whether the active backend has the one-kernel layer. */
export function hasConvLayerKernel(): boolean {
  return (
    tf.getKernel(CONV_LAYER, tf.getBackend()) !== undefined &&
    tf.getKernel(CONV_LAYER_GRAD, tf.getBackend()) !== undefined
  );
}

let seedCounter = (Math.random() * 0x100000000) >>> 0;

/** Restarts the sequence of mask seeds the layers draw (seedDropoutMasks seeds both dropout paths). */
export function seedConvLayerMasks(seed: number): void {
  seedCounter = seed >>> 0;
}

/** The layer through the registered kernels; `seed` fixes the dropout mask (tests), else each call draws a new one. */
export function convLayerKernel(
  inputs: tf.Tensor4D[],
  filter: tf.Tensor4D,
  bias: tf.Tensor1D,
  options: ConvLayerOptions,
  seed?: number,
): tf.Tensor4D {
  if (inputs.length < 1 || inputs.length > 2) throw new Error(`a conv layer takes 1 or 2 inputs, got ${inputs.length}`);
  if (seed === undefined) seedCounter = (seedCounter + 1) >>> 0;
  const attrs = { relu: options.relu, dropout: options.dropout, seed: seed ?? seedCounter };
  const named = (tensors: tf.Tensor[]) => {
    const [x0, ...rest] = tensors;
    const x1 = inputs.length === 2 ? rest.shift() : undefined;
    const [f, b] = rest;
    return { x0: x0!, ...(x1 ? { x1 } : {}), filter: f!, bias: b! };
  };
  const layer = tf.customGrad(((...args: unknown[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const tensors = args as tf.Tensor[];
    const out = tf.engine().runKernel(CONV_LAYER, named(tensors) as never, attrs as never) as tf.Tensor4D;
    save([...tensors, out]);
    return {
      value: out,
      gradFunc: (dOut: tf.Tensor, saved: tf.Tensor[]) => {
        const savedOut = saved[saved.length - 1]!;
        return tf
          .engine()
          .runKernel(
            CONV_LAYER_GRAD,
            { ...named(saved.slice(0, -1)), out: savedOut, dOut } as never,
            attrs as never,
          ) as tf.Tensor[];
      },
    };
  }) as never) as (...t: tf.Tensor[]) => tf.Tensor4D;
  return layer(...inputs, filter, bias);
}
