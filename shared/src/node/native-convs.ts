import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { convInfo } from '../engine/kernels.js';

/** The oneDNN addon (shared/native): conv(op, a, b, out, dims) on Float32Arrays, in place. */
interface NativeAddon {
  conv(op: 0 | 1 | 2, a: Float32Array, b: Float32Array, out: Float32Array, dims: number[]): void;
  onednnVersion: string;
}

type TensorInfo = { dataId: object; shape: number[]; dtype: tf.DataType };
type KernelArgs = { inputs: Record<string, TensorInfo>; attrs: Record<string, unknown>; backend: unknown };
interface WasmHeap { makeOutput(shape: number[], dtype: tf.DataType): TensorInfo; typedArrayFromHeap(t: TensorInfo): Float32Array }

const ADDON = '../../native/build/impartial_dnnl.node';

/** Loads the addon, or says why not (not built: no g++/libdnnl-dev at install; IMPARTIAL_NATIVE=0). */
export function loadNativeConvs(): NativeAddon | string {
  if (process.env['IMPARTIAL_NATIVE'] === '0') return 'IMPARTIAL_NATIVE=0';
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
  return [c.batchSize, c.inHeight, c.inWidth, c.inChannels, c.filterHeight, c.filterWidth, c.outChannels, c.outHeight, c.outWidth,
    c.strideHeight, c.strideWidth, c.dilationHeight, c.dilationWidth, p.top, p.left, p.bottom, p.right];
}

const nhwc = (attrs: Record<string, unknown>) => (attrs['dataFormat'] ?? 'NHWC') === 'NHWC';

/**
 * Replaces the wasm backend's Conv2D and its two gradients (what training runs) by oneDNN's; the
 * addon works on the wasm heap in place, no copies. Other layouts and dtypes keep the kernels
 * registered before. Inference's FusedConv2D stays with XNNPACK, which is as fast here.
 */
export function registerNativeConvs(addon: NativeAddon, backendName = 'wasm'): void {
  const previous = new Map(['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'].map((k) => [k, tf.getKernel(k, backendName)]));
  const kernel = (name: string, run: (args: KernelArgs, heap: WasmHeap) => TensorInfo | null) => {
    const fallback = previous.get(name);
    if (fallback) tf.unregisterKernel(name, backendName);
    tf.registerKernel({
      kernelName: name, backendName,
      kernelFunc: ((args: KernelArgs) => {
        const out = nhwc(args.attrs) ? run(args, args.backend as WasmHeap) : null;
        if (out) return out;
        if (!fallback) throw new Error(`${name}: only NHWC float32 is implemented natively`);
        return fallback.kernelFunc(args as never);
      }) as never,
    });
  };
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
    const xShape = attrs['inputShape'] as number[];
    const out = heap.makeOutput(xShape.slice(), 'float32');
    addon.conv(1, heap.typedArrayFromHeap(dy!), heap.typedArrayFromHeap(filter!), heap.typedArrayFromHeap(out), dims(xShape, filter!.shape, attrs));
    return out;
  });
  kernel('Conv2DBackpropFilter', ({ inputs: { x, dy }, attrs }, heap) => {
    if (x!.dtype !== 'float32' || dy!.dtype !== 'float32') return null;
    const filterShape = attrs['filterShape'] as number[];
    const out = heap.makeOutput(filterShape.slice(), 'float32');
    addon.conv(2, heap.typedArrayFromHeap(x!), heap.typedArrayFromHeap(dy!), heap.typedArrayFromHeap(out), dims(x!.shape, filterShape, attrs));
    return out;
  });
}
