// Tests of shared/src/engine/channels.ts: a pretrained model adapted to another channel count (adaptChannels).
import assert from 'node:assert/strict';
import test from 'node:test';
import {
  adaptChannels,
  DEFAULT_UNET,
  disposeWeights,
  forward,
  type ImpartialModel,
  initWeights,
  type UNetConfig,
} from '@impartial/shared';
import { initBackend, loadGenericModel } from '@impartial/shared/node';
import * as tf from '@tensorflow/tfjs-core';

// identities on the weights compare to 1e-4 in float32; bfloat16 inputs would round the adapted filters.
process.env.IMPARTIAL_PRECISION = 'f32';
await initBackend();
const still = { dropout: false };

const source = (channels: number): ImpartialModel => {
  const config: UNetConfig = { ...DEFAULT_UNET, inChannels: channels, depth: 2, base: 4, dropout: 0 };
  const lineage = { id: 'm1', parent: null, created: '', author: 't', channels: [], steps: 0, trainSeconds: 0 };
  return { config, weights: initWeights(config, 3), lineage };
};

/** An (1, 16, 16, C) input whose C channels are all the same smooth plane. */
const sameChannels = (channels: number) =>
  tf.tidy(() => {
    const plane = tf.sin(tf.mul(tf.range(0, 256), 0.21)).reshape([1, 16, 16, 1]);
    return tf.tile(plane, [1, 1, 1, channels]) as tf.Tensor4D;
  });

for (const [from, to] of [
  [6, 3],
  [2, 8],
  [6, 1],
]) {
  test(`${from} channels adapted to ${to}: on identical channels, the source's logits and mean maps`, () => {
    const m = source(from!),
      adapted = adaptChannels(m, to!);
    assert.equal(adapted.config.inChannels, to);
    assert.equal(adapted.lineage.channels.length, to);
    assert.deepEqual(adapted.weights.get('inc.conv1.weight')!.shape, [3, 3, to, 4]);
    const K = 4;
    const [a, b] = [
      forward(m.config, m.weights, sameChannels(from!), still),
      forward(adapted.config, adapted.weights, sameChannels(to!), still),
    ];
    const logitGap = tf.max(
      tf.abs(tf.sub(a.slice([0, 0, 0, 0], [-1, -1, -1, K]), b.slice([0, 0, 0, 0], [-1, -1, -1, K]))),
    );
    // the source's mean maps averaged over its channels, against each adapted channel's
    const sourceMaps = tf.mean(a.slice([0, 0, 0, K], [-1, -1, -1, K * from!]).reshape([1, 16, 16, from!, K]), 3);
    const adaptedMaps = b.slice([0, 0, 0, K], [-1, -1, -1, K * to!]).reshape([1, 16, 16, to!, K]);
    const mapGap = tf.max(tf.abs(tf.sub(adaptedMaps, tf.expandDims(sourceMaps, 3))));
    assert.ok(logitGap.dataSync()[0]! < 1e-4, `logits differ by ${logitGap.dataSync()[0]}`);
    assert.ok(mapGap.dataSync()[0]! < 1e-4, `mean maps differ by ${mapGap.dataSync()[0]}`);
    tf.dispose([a, b, logitGap, sourceMaps, adaptedMaps, mapGap]);
    disposeWeights(m.weights);
    disposeWeights(adapted.weights);
  });
}

test('a channel count that ships no model starts from the 6-channel one, adapted', async () => {
  const three = await loadGenericModel(3);
  assert.ok(three, 'a starting model for 3 channels');
  assert.equal(three.config.inChannels, 3);
  const six = await loadGenericModel(6);
  assert.equal(three.lineage.id, six!.lineage.id, 'made from the shipped 6-channel model');
  assert.deepEqual(
    three.weights.get('down0.conv1.weight')!.dataSync(),
    six!.weights.get('down0.conv1.weight')!.dataSync(),
  );
  disposeWeights(three.weights);
  disposeWeights(six!.weights);
});
