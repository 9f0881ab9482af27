import * as tf from '@tensorflow/tfjs-core';

/*
 * Convolution gradients built from the forward conv, which runs fast (XNNPACK on wasm):
 * - wasm has no Conv2DBackpropFilter at all, so conv nets cannot train there without one;
 * - wasm's own Conv2DBackpropInput is a naive loop, ~10x slower than a forward conv.
 * dW handles any stride; dX is a stride-1 rewrite (all a U-Net with 'same' 3x3 convs needs) and other
 * strides fall back to wasm's own kernel.
 */

type TensorInfo = { dataId: object; shape: number[]; dtype: tf.DataType };
type KernelArgs = { inputs: Record<string, TensorInfo>; attrs: Record<string, unknown>; backend: unknown };

/** Borrows a kernel input as a Tensor; makeTensorFromTensorInfo does not add a reference, so add one. */
function borrow(info: TensorInfo): tf.Tensor {
  const engine = tf.engine();
  (engine.backend as unknown as { incRef(id: object): void }).incRef(info.dataId);
  return engine.makeTensorFromTensorInfo(info as never);
}

/** Hands a tensor's data to the engine as a kernel output (the pattern of tfjs' own Reshape). */
function asOutput(t: tf.Tensor): TensorInfo {
  (tf.engine().backend as unknown as { incRef(id: object): void }).incRef(t.dataId);
  const info = { dataId: t.dataId, shape: t.shape.slice(), dtype: t.dtype };
  t.dispose();
  return info;
}

/** tfjs' own shape arithmetic for a channels-last conv from a kernel's attributes. */
export function convInfo(xShape: number[], filterShape: number[], attrs: Record<string, unknown>) {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as number,
    (attrs.dilations as number) ?? 1,
    attrs.pad as 'same',
    attrs.dimRoundingMode as 'floor' | undefined,
    false,
    'channelsLast',
  );
}

/**
 * dW = conv(X^T, dY^T): the batch becomes the contracted channel and the forward conv does the work.
 * With stride s, dY's pixels sit s apart in X: dY becomes a filter dilated by s.
 */
function backpropFilter({ inputs, attrs }: KernelArgs): TensorInfo {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const c = convInfo(x.shape, attrs.filterShape as number[], attrs);
  if (c.dilationHeight !== 1 || c.dilationWidth !== 1)
    throw new Error('Conv2DBackpropFilter: dilated convolutions are not implemented');
  const p = c.padInfo;
  return asOutput(
    tf.tidy(() => {
      // The conv pads X itself (explicit padding), which saves a full copy of X per layer.
      const Xt = tf.transpose(borrow(x), [3, 1, 2, 0]) as tf.Tensor4D;
      const y = tf.conv2d(
        Xt,
        tf.transpose(borrow(dy), [1, 2, 0, 3]) as tf.Tensor4D,
        1,
        [
          [0, 0],
          [p.top, p.bottom],
          [p.left, p.right],
          [0, 0],
        ],
        'NHWC',
        [c.strideHeight, c.strideWidth],
      );
      // Padding rounded for the stride can leave rows and columns past the filter: they are not weights.
      const w =
        y.shape[1] === c.filterHeight && y.shape[2] === c.filterWidth
          ? y
          : tf.slice(y, [0, 0, 0, 0], [-1, c.filterHeight, c.filterWidth, -1]);
      return tf.transpose(w, [1, 2, 0, 3]); // [fh, fw, cin, cout]
    }),
  );
}

/** dX = conv(pad(dY), rot180(W) with in/out swapped). */
function makeBackpropInput(fallback: tf.KernelConfig | undefined) {
  return (args: KernelArgs): TensorInfo | TensorInfo[] => {
    const { inputs, attrs } = args;
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const c = convInfo(attrs.inputShape as number[], filter.shape, attrs);
    if (c.strideHeight !== 1 || c.strideWidth !== 1 || c.dilationHeight !== 1 || c.dilationWidth !== 1) {
      if (!fallback) throw new Error('Conv2DBackpropInput: only stride 1 is implemented');
      return fallback.kernelFunc(args as never) as TensorInfo;
    }
    const p = c.padInfo,
      fh = c.filterHeight,
      fw = c.filterWidth;
    return asOutput(
      tf.tidy(() => {
        const W = tf.transpose(tf.reverse(borrow(filter) as tf.Tensor4D, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
        const pad: [[number, number], [number, number], [number, number], [number, number]] = [
          [0, 0],
          [fh - 1 - p.top, fh - 1 - p.bottom],
          [fw - 1 - p.left, fw - 1 - p.right],
          [0, 0],
        ];
        return tf.conv2d(borrow(dy) as tf.Tensor4D, W, 1, pad);
      }),
    );
  };
}

const registered = new Set<string>();

/** Registers the two gradient kernels for a backend (idempotent). */
export function registerConvGradients(backendName: string): void {
  if (registered.has(backendName)) return;
  registered.add(backendName);
  const fallbackInput = tf.getKernel('Conv2DBackpropInput', backendName);
  for (const name of ['Conv2DBackpropFilter', 'Conv2DBackpropInput']) {
    if (tf.getKernel(name, backendName)) tf.unregisterKernel(name, backendName);
  }
  tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName, kernelFunc: backpropFilter as never });
  tf.registerKernel({
    kernelName: 'Conv2DBackpropInput',
    backendName,
    kernelFunc: makeBackpropInput(fallbackInput) as never,
  });
}
