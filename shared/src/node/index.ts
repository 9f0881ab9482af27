export * from './backend.js';
export * from './files.js';
export * from './generic-model.js';
export { loadNativeKernels, type NativeAddon } from './native-kernels.js';
