export { decodeNpy, encodeNpy, type NpyArray } from './npy.js';
export { decodeOnnx, encodeOnnx, type OnnxModel } from './onnx-proto.js';
export {
  type NamedWeight,
  ONNX_INPUT,
  ONNX_OPSET,
  ONNX_OUTPUT,
  unetToOnnx,
  weightsOfModelFiles,
} from './unet-onnx.js';
