import { checkModelFiles, type ModelFile } from '../engine/model-io.js';
import { componentCount, convSpecs, type UNetConfig } from '../engine/unet.js';
import {
  ATTRIBUTE_TYPE,
  encodeOnnx,
  ONNX_FLOAT,
  ONNX_INT64,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from './onnx-proto.js';

/*
 * The ImPartial U-Net as an ONNX graph (NCHW, opset 17), written from the config and weights of a
 * model version: the deterministic pass of the engine's forward (conv + ReLU, 2x2 max-pool,
 * bilinear upsampling with aligned corners, skip concatenation, a 1x1 head), then the mixture's
 * softmax and the sum of its foreground components, so the output is the cell probability.
 */

export const ONNX_OPSET = 17;
export const ONNX_INPUT = 'raw';
export const ONNX_OUTPUT = 'probability';

export interface NamedWeight {
  shape: number[];
  data: Float32Array;
}

/** The float32 weights of model.json + weights.bin, by name (checked against the config first). */
export function weightsOfModelFiles(
  manifestJson: unknown,
  weights: Uint8Array,
): {
  manifest: ModelFile;
  named: Map<string, NamedWeight>;
} {
  const manifest = checkModelFiles(manifestJson, weights.byteLength);
  const named = new Map<string, NamedWeight>();
  let offset = 0;
  for (const spec of manifest.weightsManifest.flatMap((g) => g.weights)) {
    if (spec.dtype !== 'float32') throw new Error(`weight ${spec.name} is ${spec.dtype}, not float32`);
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    new Uint8Array(data.buffer).set(weights.subarray(offset, offset + 4 * n));
    named.set(spec.name, { shape: spec.shape, data });
    offset += 4 * n;
  }
  return { manifest, named };
}

const floatTensor = (name: string, dims: number[], data: Float32Array): OnnxTensor => ({
  name,
  dims,
  dataType: ONNX_FLOAT,
  rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice(),
});

const int64Tensor = (name: string, values: number[]): OnnxTensor => {
  const data = new BigInt64Array(values.map((v) => BigInt(v)));
  return { name, dims: [values.length], dataType: ONNX_INT64, rawData: new Uint8Array(data.buffer) };
};

/** A tfjs conv filter (kh, kw, in, out) as ONNX's (out, in, kh, kw). */
function toOihw(w: NamedWeight): { dims: number[]; data: Float32Array } {
  const [kh, kw, inC, outC] = w.shape as [number, number, number, number];
  const out = new Float32Array(w.data.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < inC; i++)
        for (let o = 0; o < outC; o++)
          out[((o * inC + i) * kh + y) * kw + x] = w.data[((y * kw + x) * inC + i) * outC + o]!;
  return { dims: [outC, inC, kh, kw], data: out };
}

const tensorInfo = (name: string, dims: Array<number | string>): OnnxValueInfo => ({
  name,
  type: {
    tensorType: {
      elemType: ONNX_FLOAT,
      shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
    },
  },
});

/** The .onnx bytes of a U-Net; input (N, C, H, W) with H and W multiples of 2^depth, output (N, 1, H, W). */
export function unetToOnnx(
  config: UNetConfig,
  weights: ReadonlyMap<string, NamedWeight>,
  o: { producerVersion: string; docString?: string },
): Uint8Array {
  const nodes: OnnxNode[] = [];
  const initializer: OnnxTensor[] = [];
  const ints = (name: string, values: number[]) => ({ name, type: ATTRIBUTE_TYPE.ints, ints: values });
  const node = (opType: string, input: string[], output: string, attribute: OnnxNode['attribute'] = []) => {
    nodes.push({ opType, input, output: [output], name: `${output}_${opType.toLowerCase()}`, attribute });
    return output;
  };
  const conv = (name: string, x: string, relu: boolean) => {
    const w = weights.get(`${name}.weight`),
      b = weights.get(`${name}.bias`);
    if (!w || !b) throw new Error(`missing weight ${name}`);
    const oihw = toOihw(w);
    initializer.push(floatTensor(`${name}.weight`, oihw.dims, oihw.data), floatTensor(`${name}.bias`, b.shape, b.data));
    const pad = (oihw.dims[2]! - 1) / 2;
    const y = node('Conv', [x, `${name}.weight`, `${name}.bias`], relu ? `${name}.conv` : name, [
      ints('kernel_shape', oihw.dims.slice(2)),
      ints('pads', [pad, pad, pad, pad]),
      ints('strides', [1, 1]),
    ]);
    return relu ? node('Relu', [y], name) : y;
  };
  const block = (name: string, x: string) => conv(`${name}.conv2`, conv(`${name}.conv1`, x, true), true);

  const skips = [block('inc', ONNX_INPUT)];
  for (let i = 0; i < config.depth; i++) {
    const pooled = node('MaxPool', [skips[skips.length - 1]!], `down${i}.pool`, [
      ints('kernel_shape', [2, 2]),
      ints('strides', [2, 2]),
    ]);
    skips.push(block(`down${i}`, pooled));
  }
  initializer.push(floatTensor('up.scales', [4], new Float32Array([1, 1, 2, 2])));
  let y = skips.pop()!;
  for (let i = config.depth - 1; i >= 0; i--) {
    const up = node('Resize', [y, '', 'up.scales'], `up${i}.resize`, [
      { name: 'mode', type: ATTRIBUTE_TYPE.string, s: new TextEncoder().encode('linear') },
      {
        name: 'coordinate_transformation_mode',
        type: ATTRIBUTE_TYPE.string,
        s: new TextEncoder().encode('align_corners'),
      },
    ]);
    const cat = node('Concat', [skips.pop()!, up], `up${i}.concat`, [{ name: 'axis', type: ATTRIBUTE_TYPE.int, i: 1 }]);
    y = block(`up${i}`, cat);
  }
  const head = conv('head', y, false);
  // Mixture responsibilities over the K component logits; the cell probability sums the foreground ones.
  const K = componentCount(config);
  initializer.push(
    int64Tensor('logits.starts', [0]),
    int64Tensor('logits.ends', [K]),
    int64Tensor('foreground.ends', [config.components[0]]),
    int64Tensor('channel.axis', [1]),
  );
  const logits = node('Slice', [head, 'logits.starts', 'logits.ends', 'channel.axis'], 'logits');
  const pi = node('Softmax', [logits], 'responsibilities', [{ name: 'axis', type: ATTRIBUTE_TYPE.int, i: 1 }]);
  const fg = node('Slice', [pi, 'logits.starts', 'foreground.ends', 'channel.axis'], 'foreground');
  node('ReduceSum', [fg, 'channel.axis'], ONNX_OUTPUT, [{ name: 'keepdims', type: ATTRIBUTE_TYPE.int, i: 1 }]);

  const unused = [...weights.keys()].filter((k) => !initializer.some((t) => t.name === k));
  if (unused.length > 0) throw new Error(`weights the U-Net config does not use: ${unused.join(', ')}`);
  if (convSpecs(config).length * 2 !== weights.size) throw new Error('the weights do not match the config');
  return encodeOnnx({
    irVersion: 8,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'impartial',
    producerVersion: o.producerVersion,
    ...(o.docString ? { docString: o.docString } : {}),
    graph: {
      name: 'impartial_unet',
      node: nodes,
      initializer,
      input: [tensorInfo(ONNX_INPUT, ['batch', config.inChannels, 'y', 'x'])],
      output: [tensorInfo(ONNX_OUTPUT, ['batch', 1, 'y', 'x'])],
    },
  });
}
