import ort from 'onnxruntime-node';

/** The onnxruntime-node version the checks run with. */
export const ONNXRUNTIME_VERSION = ort.env.versions.node ?? ort.env.versions.common;

/** Runs ONNX weights on one (N, C, H, W) float32 input and returns the first output's values. */
export async function runOnnx(onnx: Uint8Array, input: { shape: number[]; data: Float32Array }): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(onnx, { graphOptimizationLevel: 'all' });
  try {
    const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', input.data, input.shape) };
    const out = await session.run(feeds);
    return out[session.outputNames[0]!]!.data as Float32Array;
  } finally {
    await session.release();
  }
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return Number.isNaN(max) ? Number.POSITIVE_INFINITY : max;
}
