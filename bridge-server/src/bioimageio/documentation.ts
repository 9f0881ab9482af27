import type { UNetConfig } from '@impartial/shared';
import type { PackageMeta } from './rdf.js';

/** The package's README.md: what the model does, how to feed it, where it came from, and how it was checked. */
export function documentation(
  meta: PackageMeta,
  config: UNetConfig,
  check: { maxDiff: number; onnxruntime: string; inputShape: number[] },
): string {
  const step = 2 ** config.depth;
  const t = meta.training;
  const counts = [
    `${t.steps} steps`,
    `${Math.round(t.seconds)} s`,
    ...(t.images !== undefined ? [`${t.images} image(s)`] : []),
    ...(t.strokes !== undefined ? [`${t.strokes} stroke(s)`] : []),
  ].join(', ');
  const parent = meta.parent ? `\n- Fine-tuned from catalogue model ${meta.parent.id}.` : '';
  const metrics = Object.entries(t.metrics)
    .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(3)}`)
    .join(', ');
  return `# ${meta.name}

${meta.description}

An ImPartial U-Net: trained interactively from a person's scribbles plus a self-supervised
blind-spot reconstruction of the image, on the ImPartial bridge.

## Input and output

- Input \`raw\`: (batch, channel, y, x), float32, ${config.inChannels} channel(s) in this order:
${meta.channels.map((c) => `  - ${c.name}${c.description ? `: ${c.description}` : ''}`).join('\n')}
  y and x are multiples of ${step} (at least ${step}).
- Preprocessing: \`scale_range\` over channel, y and x jointly, percentiles 1 and 98 (as the engine
  normalises a whole image; for a large image compute them over the whole image, then tile).
- Output \`probability\`: (batch, 1, y, x), the probability that a pixel belongs to a cell. The
  ImPartial bridge cuts instances from it (threshold and seeded separation chosen from the person's
  outlines) and averages passes over the mirrored image for its probability and entropy maps; these
  weights give one pass.

## Training

- ${counts}.
- Trained by, along its chain: ${meta.lineageAuthors.join(', ') || 'unknown'}.${parent}
${metrics ? `- Calibration on the person's own strokes (no ground truth): ${metrics}.` : ''}
- U-Net: depth ${config.depth}, base width ${config.base}, dropout ${config.dropout},
  mixture components ${config.components.join(' + ')}.

# Validation

The ONNX weights were run with onnxruntime-node ${check.onnxruntime} on the packaged test input
(${check.inputShape.join(' x ')}, after the preprocessing above) and compared with the ImPartial
engine (TensorFlow.js) on the same input: largest absolute difference of the probability
${check.maxDiff.toExponential(2)} (required: at most 1e-4). The packaged test output is the engine's.
This model was not validated against ground truth; the calibration above is on the strokes it was
trained from. Check its predictions on your own images before relying on them.
`;
}
