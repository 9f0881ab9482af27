export { type AdamOptions, type AdamState, CpuAdam, TfjsAdam, type WeightUpdate } from './adam.js';
export { adaptChannels } from './channels.js';
export { type ConvLayerOptions, convLayerKernel, hasConvLayerKernel } from './conv-layer.js';
export { impartialLossOnCpu, type NativeLoss, useNativeLoss } from './fused-loss.js';
export { type InferOptions, type Prediction, predict, tileOrigins } from './infer.js';
export { registerConvGradients } from './kernels.js';
export { impartialLoss, LOSS_WEIGHTS, type LossInputs, type LossTerms, scribbleLoss } from './losses.js';
export { childLineage, type ImpartialModel, type LineageStep, type ModelLineage } from './model.js';
export {
  checkModelFiles,
  deserializeModel,
  loadModelFromUrl,
  MODEL_JSON,
  MODEL_WEIGHTS,
  type ModelFile,
} from './model-io.js';
export {
  type BatchSource,
  decayFactor,
  type StepLosses,
  Trainer,
  type TrainOptions,
  type TrainProgress,
  type TrainResult,
  train,
} from './train.js';
export {
  DEFAULT_UNET,
  disposeWeights,
  dropout,
  type ForwardOptions,
  forward,
  forwardMacs,
  initWeights,
  outputChannels,
  parameterCount,
  seedDropoutMasks,
  trainingConfig,
  type UNetConfig,
  type UNetWeights,
  weightsFromTensors,
} from './unet.js';
