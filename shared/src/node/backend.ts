import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useNativeLoss } from '../engine/fused-loss.js';
import { registerConvGradients } from '../engine/kernels.js';
import {
  type ConvPrecision,
  chooseConvPrecision,
  loadNativeKernels,
  registerNativeConvLayer,
  registerNativeConvs,
  registerNativeMemoryKernels,
} from './native-kernels.js';

export type BackendName = 'webgpu' | 'wasm' | 'cpu';

export interface BackendInfo {
  name: BackendName;
  /** e.g. "wasm (SIMD, 2 threads) + oneDNN 2.6.3 kernels" or "webgpu (NVIDIA H100)". */
  description: string;
  threads: number;
  /** oneDNN's version when the native kernels run (wasm only), else why not. */
  nativeKernels?: { version: string; precision: ConvPrecision } | { missing: string };
}

const require = createRequire(import.meta.url);
const VULKAN_LOADERS = [
  '/usr/lib/x86_64-linux-gnu/libvulkan.so.1',
  '/usr/lib/aarch64-linux-gnu/libvulkan.so.1',
  '/usr/lib64/libvulkan.so.1',
  '/usr/lib/libvulkan.so.1',
];

/** WebGPU in Node through Dawn (the `webgpu` package), over Vulkan on a real GPU. Null when no adapter exists. */
async function tryWebGpu(): Promise<BackendInfo | null> {
  // Dawn needs the Vulkan loader on Linux; without it, skip loading a 20 MB addon just to be told no.
  if (process.platform === 'linux' && !process.env.DAWN_FLAGS && !VULKAN_LOADERS.some((p) => existsSync(p)))
    return null;
  const { create, globals } = (await import('webgpu')) as unknown as {
    create(flags: string[]): { requestAdapter(o?: object): Promise<unknown> };
    globals: Record<string, unknown>;
  };
  Object.assign(globalThis, globals);
  const gpu = create(process.env.DAWN_FLAGS ? process.env.DAWN_FLAGS.split(',') : []);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return null;
  const g = globalThis as { navigator?: object };
  g.navigator ??= {};
  const nav = g.navigator;
  Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) return null;
  await tf.ready();
  const info = (adapter as unknown as { info?: { description?: string; device?: string; vendor?: string } }).info;
  return {
    name: 'webgpu',
    description: `webgpu (${info?.description || info?.device || info?.vendor || 'GPU'})`,
    threads: 0,
  };
}

/**
 * tfjs turns wasm threads off in Node and hands Emscripten a blob: worker URL that Node rejects.
 * Writing the threaded glue and its worker script to files makes pthreads work (tfjs 4.22 exactly:
 * this depends on the bundle's `require$$N` names, which is why the version is pinned).
 */
function enableWasmThreads(count: number): () => void {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'impartial-wasm-'));
  const mainFile = path.join(dir, 'main.cjs'),
    workerFile = path.join(dir, 'worker.cjs');
  const OriginalBlob = globalThis.Blob;
  class CapturingBlob extends OriginalBlob {
    readonly text_: string;
    constructor(parts: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options);
      this.text_ = parts.map(String).join('');
      if (this.text_.startsWith('var WasmBackendModuleThreadedSimd')) {
        writeFileSync(
          mainFile,
          "var require$$0=require('fs'),require$$1=require('path'),require$$2=require('worker_threads')," +
            "require$$3=require('perf_hooks'),require$$4=require('os'),commonjsGlobal=globalThis;\n" +
            this.text_,
        );
      }
    }
  }
  globalThis.Blob = CapturingBlob as typeof Blob;
  const createObjectURL = URL.createObjectURL.bind(URL);
  URL.createObjectURL = (blob: Blob) => {
    const text = (blob as CapturingBlob).text_;
    if (text?.includes('nodeWorkerThreads')) {
      writeFileSync(
        workerFile,
        `URL.createObjectURL=()=>${JSON.stringify(mainFile)};URL.revokeObjectURL=()=>{};${text}`,
      );
      return workerFile;
    }
    return createObjectURL(blob);
  };
  const wasm = require('@tensorflow/tfjs-backend-wasm') as { setThreadsCount(n: number): void };
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  // Emscripten caps threads at cpus/2 (assumes SMT); report the real count twice until the pool exists.
  const cpus = os.cpus;
  os.cpus = () => cpus().concat(cpus());
  wasm.setThreadsCount(count);
  return () => {
    os.cpus = cpus;
  };
}

async function tryWasm(threads: number): Promise<BackendInfo | null> {
  const restoreCpus = threads > 1 ? enableWasmThreads(threads) : () => {};
  const wasm = require('@tensorflow/tfjs-backend-wasm') as { getThreadsCount(): number };
  try {
    if (!(await tf.setBackend('wasm'))) return null;
    await tf.ready();
  } finally {
    restoreCpus();
  }
  registerConvGradients('wasm');
  // oneDNN's kernels (shared/native; built at install when g++ and libdnnl-dev exist) take a
  // d3/b16 training step from ~0.63 s on the wasm kernels to ~0.19 s on this 2-core machine.
  const addon = loadNativeKernels();
  const precision = typeof addon === 'string' ? 'f32' : chooseConvPrecision(addon);
  if (typeof addon !== 'string') {
    registerNativeConvs(addon, 'wasm');
    registerNativeConvLayer(addon, 'wasm');
    registerNativeMemoryKernels(addon, 'wasm');
    const { lossPass, lossGradient } = addon;
    useNativeLoss(lossPass && lossGradient ? { lossPass, lossGradient } : null);
  }
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const n = wasm.getThreadsCount();
  const kernels =
    typeof addon === 'string'
      ? ''
      : ` + oneDNN ${addon.onednnVersion} kernels${precision === 'bf16' ? ' (bf16 convolutions)' : ''}`;
  return {
    name: 'wasm',
    threads: n,
    description: `wasm (${simd ? 'SIMD' : 'no SIMD'}, ${n} thread${n === 1 ? '' : 's'})${kernels}`,
    nativeKernels: typeof addon === 'string' ? { missing: addon } : { version: addon.onednnVersion, precision },
  };
}

async function tryCpu(): Promise<BackendInfo> {
  await import('@tensorflow/tfjs-backend-cpu');
  await tf.setBackend('cpu');
  await tf.ready();
  registerConvGradients('cpu');
  return { name: 'cpu', description: 'cpu (pure JavaScript, slow)', threads: 1 };
}

let current: Promise<BackendInfo> | null = null;

/**
 * The union package's Node bundle is the one build that registers tfjs' gradients
 * (tfjs-core's own leaves them out).
 */
function registerGradients(): void {
  require('@tensorflow/tfjs');
  tf.enableProdMode(); // also silences the "install tfjs-node" banner, which cannot install here anyway
}

/**
 * Picks the fastest backend that works: WebGPU when a GPU adapter exists, else wasm, else cpu.
 * IMPARTIAL_BACKEND=webgpu|wasm|cpu forces one (an error if it cannot start);
 * IMPARTIAL_WASM_THREADS sets wasm threads (default: the number of cores).
 */
export function initBackend(forced: string | undefined = process.env.IMPARTIAL_BACKEND): Promise<BackendInfo> {
  current ??= (async () => {
    registerGradients();
    const threads = Number(process.env.IMPARTIAL_WASM_THREADS ?? os.availableParallelism?.() ?? os.cpus().length) || 1;
    if (forced) {
      if (!['webgpu', 'wasm', 'cpu'].includes(forced))
        throw new Error(`IMPARTIAL_BACKEND must be webgpu, wasm or cpu, not "${forced}"`);
      const info =
        forced === 'webgpu' ? await tryWebGpu() : forced === 'wasm' ? await tryWasm(threads) : await tryCpu();
      if (!info) {
        const hint = forced === 'webgpu' ? ' (no GPU adapter; Dawn needs libvulkan1 and a Vulkan driver)' : '';
        throw new Error(`backend ${forced} was requested but cannot start here${hint}`);
      }
      return info;
    }
    const fallback = (name: string) => (e: unknown) => {
      process.emitWarning(`${name} backend failed to start: ${(e as Error).message}`);
      return null;
    };
    return (
      (await tryWebGpu().catch(fallback('webgpu'))) ??
      (await tryWasm(threads).catch(fallback('wasm'))) ??
      (await tryCpu())
    );
  })();
  return current;
}
