// A tiny U-Net, a fresh model of it and a smooth test image, for the engine and model-file tests.
import {
  DEFAULT_UNET,
  type ImpartialModel,
  initWeights,
  type MultiChannelImage,
  newId,
  type UNetConfig,
} from '@impartial/shared';

export const config: UNetConfig = { ...DEFAULT_UNET, inChannels: 3, depth: 2, base: 4 };
export const model = (): ImpartialModel => ({
  config,
  weights: initWeights(config, 7),
  lineage: {
    id: newId('m'),
    parent: null,
    created: new Date().toISOString(),
    author: 'test',
    channels: ['a', 'b', 'c'],
    steps: 0,
    trainSeconds: 0,
  },
});

export function image(width: number, height: number, channels = 3): MultiChannelImage {
  const data = new Float32Array(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37) * 0.5 + 0.5;
  return { width, height, channels, data };
}
