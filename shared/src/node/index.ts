export * from './backend.js';
export * from './files.js';
export * from './generic-model.js';
export { type ConvPrecision, chooseConvPrecision, loadNativeKernels, type NativeAddon } from './native-kernels.js';
