export * from './unet.js';
export * from './losses.js';
export * from './train.js';
export * from './infer.js';
export * from './model.js';
export * from './model-io.js';
export * from './kernels.js';
