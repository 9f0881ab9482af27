import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { CONV_LAYER, CONV_LAYER_GRAD } from '../engine/conv-layer.js';
import type { NativeLoss } from '../engine/fused-loss.js';
import { convInfo } from '../engine/kernels.js';

/** The oneDNN addon (shared/native), on Float32Arrays in place. */
export interface NativeAddon {
  conv(op: 0 | 1 | 2, a: Float32Array, b: Float32Array, out: Float32Array, dims: number[]): void;
  layerForward(
    x0: Float32Array,
    x1: Float32Array | null,
    filter: Float32Array,
    bias: Float32Array,
    out: Float32Array,
    dims: number[],
    c0: number,
    relu: boolean,
    rate: number,
    seed: number,
  ): void;
  layerBackward(
    x0: Float32Array,
    x1: Float32Array | null,
    filter: Float32Array,
    out: Float32Array,
    dOut: Float32Array,
    dx0: Float32Array,
    dx1: Float32Array | null,
    dFilter: Float32Array,
    dBias: Float32Array,
    dims: number[],
    c0: number,
    relu: boolean,
    rate: number,
    seed: number,
  ): void;
  maxPoolGrad(x: Float32Array, dy: Float32Array, dx: Float32Array, dims: number[]): void;
  /** tfjs' MaxPool on NHWC float32 (dims as maxPoolGrad's); absent from a build older than it. */
  maxPool?(x: Float32Array, y: Float32Array, dims: number[]): void;
  slice4(x: Float32Array, out: Float32Array, dims: number[]): void;
  /** tfjs' ResizeBilinear and its gradient (half-pixel centres too), NHWC float32; absent from older builds. */
  resizeBilinear?(x: Float32Array, out: Float32Array, dims: number[]): void;
  resizeBilinearGrad?(dy: Float32Array, dx: Float32Array, dims: number[]): void;
  /** The fused ImPartial loss's pass and gradient (fused-loss.ts); absent from a build older than them. */
  lossPass?: NativeLoss['lossPass'];
  lossGradient?: NativeLoss['lossGradient'];
  /** The factors (0 or 1 / (1 - rate)) layerForward's dropout multiplies by, for tests. */
  dropoutMask(seed: number, rate: number, out: Float32Array): void;
  /** The implementation oneDNN picks for a bfloat16 convolution here; absent from a build older than it. */
  bf16Kernel?(): string;
  /** Convolutions this thread builds from now on read bfloat16 inputs (true) or float32 ones. */
  setBf16?(on: boolean): void;
  onednnVersion: string;
}

export type ConvPrecision = 'bf16' | 'f32';

/**
 * What the convolutions compute in: IMPARTIAL_PRECISION=f32 or bf16 when set, else bfloat16 inputs
 * with float32 accumulation where the CPU has bfloat16 instructions (AMX, AVX512-BF16), whose
 * kernels take a d3/b16 training step about 1.4x faster; float32 where oneDNN has only its slow reference
 * kernel for bfloat16. The weights, Adam and everything but the convolutions' inputs stay float32.
 */
export function chooseConvPrecision(addon: NativeAddon, wanted = process.env.IMPARTIAL_PRECISION): ConvPrecision {
  if (wanted !== undefined && wanted !== '' && wanted !== 'auto' && wanted !== 'bf16' && wanted !== 'f32')
    throw new Error(`IMPARTIAL_PRECISION must be auto, bf16 or f32, not ${wanted}`);
  if (!addon.setBf16 || !addon.bf16Kernel) return 'f32';
  const fast = !addon.bf16Kernel().startsWith('ref');
  const bf16 = wanted === 'bf16' || (wanted !== 'f32' && fast);
  addon.setBf16(bf16);
  return bf16 ? 'bf16' : 'f32';
}

type TensorInfo = { dataId: object; shape: number[]; dtype: tf.DataType };
type KernelArgs = { inputs: Record<string, TensorInfo>; attrs: Record<string, unknown>; backend: unknown };
interface WasmHeap {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  incRef(dataId: object): void;
}

const ADDON = '../../native/build/impartial_dnnl.node';

/** Loads the addon, or says why not (not built: no g++/libdnnl-dev at install; IMPARTIAL_NATIVE=0). */
export function loadNativeKernels(): NativeAddon | string {
  if (process.env.IMPARTIAL_NATIVE === '0') return 'IMPARTIAL_NATIVE=0';
  try {
    return createRequire(import.meta.url)(ADDON) as NativeAddon;
  } catch (e) {
    return (e as Error).message.split('\n')[0]!;
  }
}

/** The 17 numbers the addon takes for one convolution. */
function dims(xShape: number[], filterShape: number[], attrs: Record<string, unknown>): number[] {
  const c = convInfo(xShape, filterShape, attrs);
  const p = c.padInfo;
  return [
    c.batchSize,
    c.inHeight,
    c.inWidth,
    c.inChannels,
    c.filterHeight,
    c.filterWidth,
    c.outChannels,
    c.outHeight,
    c.outWidth,
    c.strideHeight,
    c.strideWidth,
    c.dilationHeight,
    c.dilationWidth,
    p.top,
    p.left,
    p.bottom,
    p.right,
  ];
}

const nhwc = (attrs: Record<string, unknown>) => (attrs.dataFormat ?? 'NHWC') === 'NHWC';

/**
 * Puts `run` in place of a backend's kernel; where it returns null (a case it does not cover) the
 * kernel registered before runs.
 */
function overrideKernel(
  name: string,
  backendName: string,
  run: (args: KernelArgs, heap: WasmHeap) => TensorInfo | null,
): void {
  const fallback = tf.getKernel(name, backendName);
  if (fallback) tf.unregisterKernel(name, backendName);
  tf.registerKernel({
    kernelName: name,
    backendName,
    kernelFunc: ((args: KernelArgs) => {
      const out = run(args, args.backend as WasmHeap);
      if (out) return out;
      if (!fallback)
        throw new Error(`${name}: this case is not implemented natively and ${backendName} has no kernel of its own`);
      return fallback.kernelFunc(args as never);
    }) as never,
  });
}

/**
 * Replaces the wasm backend's Conv2D and its two gradients by oneDNN's (for convolutions outside
 * the U-Net layer kernels below); the addon works on the wasm heap in place, no copies. Other
 * layouts and dtypes keep the kernels registered before. FusedConv2D stays with XNNPACK.
 */
export function registerNativeConvs(addon: NativeAddon, backendName = 'wasm'): void {
  const kernel = (name: string, run: (args: KernelArgs, heap: WasmHeap) => TensorInfo | null) =>
    overrideKernel(name, backendName, (args, heap) => (nhwc(args.attrs) ? run(args, heap) : null));
  // The output is allocated first: allocation may grow the wasm memory, which would detach views taken before.
  kernel('Conv2D', ({ inputs: { x, filter }, attrs }, heap) => {
    if (x!.dtype !== 'float32' || filter!.dtype !== 'float32') return null;
    const d = dims(x!.shape, filter!.shape, attrs);
    const out = heap.makeOutput([d[0]!, d[7]!, d[8]!, d[6]!], 'float32');
    addon.conv(0, heap.typedArrayFromHeap(x!), heap.typedArrayFromHeap(filter!), heap.typedArrayFromHeap(out), d);
    return out;
  });
  kernel('Conv2DBackpropInput', ({ inputs: { dy, filter }, attrs }, heap) => {
    if (dy!.dtype !== 'float32' || filter!.dtype !== 'float32') return null;
    const xShape = attrs.inputShape as number[];
    const out = heap.makeOutput(xShape.slice(), 'float32');
    addon.conv(
      1,
      heap.typedArrayFromHeap(dy!),
      heap.typedArrayFromHeap(filter!),
      heap.typedArrayFromHeap(out),
      dims(xShape, filter!.shape, attrs),
    );
    return out;
  });
  kernel('Conv2DBackpropFilter', ({ inputs: { x, dy }, attrs }, heap) => {
    if (x!.dtype !== 'float32' || dy!.dtype !== 'float32') return null;
    const filterShape = attrs.filterShape as number[];
    const out = heap.makeOutput(filterShape.slice(), 'float32');
    addon.conv(
      2,
      heap.typedArrayFromHeap(x!),
      heap.typedArrayFromHeap(dy!),
      heap.typedArrayFromHeap(out),
      dims(x!.shape, filterShape, attrs),
    );
    return out;
  });
}

/**
 * The U-Net layer as one forward and one backward kernel (engine/conv-layer.ts) on oneDNN: what
 * tfjs ran as about a dozen full passes over memory a layer becomes a convolution with its bias and
 * ReLU fused, dropout by a hashed mask, and one loop for the ReLU/dropout/bias gradients.
 */
export function registerNativeConvLayer(addon: NativeAddon, backendName = 'wasm'): void {
  const layerDims = (x0: TensorInfo, x1: TensorInfo | undefined, filter: TensorInfo) => {
    const [n, h, w] = x0.shape,
      ci = x0.shape[3]! + (x1?.shape[3] ?? 0);
    return dims([n!, h!, w!, ci], filter.shape, { strides: 1, pad: 'same' });
  };
  const check = (name: string, tensors: (TensorInfo | undefined)[]) => {
    for (const t of tensors) if (t && t.dtype !== 'float32') throw new Error(`${name}: float32 only, got ${t.dtype}`);
  };
  tf.registerKernel({
    kernelName: CONV_LAYER,
    backendName,
    kernelFunc: (({ inputs: { x0, x1, filter, bias }, attrs, backend }: KernelArgs) => {
      check(CONV_LAYER, [x0, x1, filter, bias]);
      const heap = backend as WasmHeap,
        d = layerDims(x0!, x1, filter!);
      const out = heap.makeOutput([d[0]!, d[7]!, d[8]!, d[6]!], 'float32');
      const view = (t: TensorInfo | undefined) => (t ? heap.typedArrayFromHeap(t) : null);
      addon.layerForward(
        view(x0)!,
        view(x1),
        view(filter)!,
        view(bias)!,
        view(out)!,
        d,
        x0!.shape[3]!,
        attrs.relu as boolean,
        attrs.dropout as number,
        attrs.seed as number,
      );
      return out;
    }) as never,
  });
  tf.registerKernel({
    kernelName: CONV_LAYER_GRAD,
    backendName,
    kernelFunc: (({ inputs: { x0, x1, filter, bias, out, dOut }, attrs, backend }: KernelArgs) => {
      check(CONV_LAYER_GRAD, [x0, x1, filter, out, dOut]);
      const heap = backend as WasmHeap,
        d = layerDims(x0!, x1, filter!);
      // Allocate every output before taking views: an allocation may grow (and detach) the heap.
      const grads = [x0!, ...(x1 ? [x1] : []), filter!, bias!].map((t) => heap.makeOutput(t.shape.slice(), 'float32'));
      const view = (t: TensorInfo | undefined) => (t ? heap.typedArrayFromHeap(t) : null);
      const [dx0, dx1] = x1 ? [grads[0], grads[1]] : [grads[0], undefined];
      addon.layerBackward(
        view(x0)!,
        view(x1),
        view(filter)!,
        view(out)!,
        view(dOut)!,
        view(dx0)!,
        view(dx1),
        view(grads[grads.length - 2])!,
        view(grads[grads.length - 1])!,
        d,
        x0!.shape[3]!,
        attrs.relu as boolean,
        attrs.dropout as number,
        attrs.seed as number,
      );
      return grads;
    }) as never,
  });
}

/**
 * Memory-bound kernels, together a fifth of a training step on tfjs-wasm: Identity, which tfjs
 * runs on every tensor a gradient keeps and wasm answers with a copy (tfjs' cpu backend shares the
 * buffer, as here: tensors are immutable); max pooling and bilinear resizing with their gradients
 * (NHWC, float32: the U-Net's down and up paths) and slicing of
 * float32 tensors up to rank 4 (the loss slices the network's output by channel), scalar loops in
 * tfjs-wasm.
 */
export function registerNativeMemoryKernels(addon: NativeAddon, backendName = 'wasm'): void {
  overrideKernel('Identity', backendName, ({ inputs: { x } }, heap) => {
    heap.incRef(x!.dataId);
    return { dataId: x!.dataId, shape: x!.shape.slice(), dtype: x!.dtype };
  });
  const poolDims = (shape: number[], attrs: Record<string, unknown>) => {
    const c = tf.backend_util.computePool2DInfo(
      shape as [number, number, number, number],
      attrs.filterSize as number,
      attrs.strides as number,
      1,
      attrs.pad as 'valid',
      attrs.dimRoundingMode as 'floor' | undefined,
    );
    const p = c.padInfo;
    const d = [
      c.batchSize,
      c.inHeight,
      c.inWidth,
      c.inChannels,
      c.outHeight,
      c.outWidth,
      c.filterHeight,
      c.filterWidth,
    ];
    return [...d, c.strideHeight, c.strideWidth, p.top, p.left];
  };
  overrideKernel('MaxPoolGrad', backendName, ({ inputs: { dy, input }, attrs }, heap) => {
    if (input!.dtype !== 'float32' || dy!.dtype !== 'float32' || input!.shape.length !== 4) return null;
    const d = poolDims(input!.shape, attrs);
    const out = heap.makeOutput(input!.shape.slice(), 'float32');
    addon.maxPoolGrad(heap.typedArrayFromHeap(input!), heap.typedArrayFromHeap(dy!), heap.typedArrayFromHeap(out), d);
    return out;
  });
  const { maxPool } = addon;
  if (maxPool)
    overrideKernel('MaxPool', backendName, ({ inputs: { x }, attrs }, heap) => {
      if (x!.dtype !== 'float32' || x!.shape.length !== 4) return null;
      const d = poolDims(x!.shape, attrs);
      const out = heap.makeOutput([d[0]!, d[4]!, d[5]!, d[3]!], 'float32');
      maxPool(heap.typedArrayFromHeap(x!), heap.typedArrayFromHeap(out), d);
      return out;
    });
  const { resizeBilinear, resizeBilinearGrad } = addon;
  if (resizeBilinear && resizeBilinearGrad) {
    overrideKernel('ResizeBilinear', backendName, ({ inputs: { images }, attrs }, heap) => {
      const [oh, ow] = attrs.size as [number, number];
      // Empty images and sizes are tfjs' own business (the addon needs at least a pixel each side).
      if (images!.dtype !== 'float32' || images!.shape.length !== 4 || Math.min(...images!.shape, oh, ow) < 1)
        return null;
      const [n, h, w, c] = images!.shape as [number, number, number, number];
      const out = heap.makeOutput([n, oh, ow, c], 'float32');
      const flags = [attrs.alignCorners ? 1 : 0, attrs.halfPixelCenters ? 1 : 0];
      resizeBilinear(heap.typedArrayFromHeap(images!), heap.typedArrayFromHeap(out), [n, h, w, c, oh, ow, ...flags]);
      return out;
    });
    overrideKernel('ResizeBilinearGrad', backendName, ({ inputs: { images, dy }, attrs }, heap) => {
      if (images!.dtype !== 'float32' || dy!.dtype !== 'float32' || images!.shape.length !== 4) return null;
      if (Math.min(...images!.shape, ...dy!.shape) < 1) return null;
      const [n, h, w, c] = images!.shape as [number, number, number, number];
      const out = heap.makeOutput([n, h, w, c], 'float32');
      resizeBilinearGrad(heap.typedArrayFromHeap(dy!), heap.typedArrayFromHeap(out), [
        n,
        h,
        w,
        c,
        dy!.shape[1]!,
        dy!.shape[2]!,
        attrs.alignCorners ? 1 : 0,
        attrs.halfPixelCenters ? 1 : 0,
      ]);
      return out;
    });
  }
  overrideKernel('Slice', backendName, ({ inputs: { x }, attrs }, heap) => {
    if (x!.dtype !== 'float32' || x!.shape.length < 1 || x!.shape.length > 4) return null;
    const [begin, size] = tf.slice_util.parseSliceParams(
      x as unknown as tf.TensorInfo,
      attrs.begin as number[],
      attrs.size as number[],
    ) as [number[], number[]];
    const lead = 4 - x!.shape.length,
      pad = (a: number[], v: number) => [...Array<number>(lead).fill(v), ...a];
    const out = heap.makeOutput(size.slice(), 'float32');
    addon.slice4(heap.typedArrayFromHeap(x!), heap.typedArrayFromHeap(out), [
      ...pad(x!.shape, 1),
      ...pad(begin, 0),
      ...pad(size, 1),
    ]);
    return out;
  });
}
