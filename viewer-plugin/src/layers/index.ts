export { HALO_PIXELS, haloWidth } from './halo.js';
export {
  autoContrast,
  type ChannelSetting,
  channelSettings,
  imageLayer,
  type LoadedZarr,
  sameTileGrid,
} from './image.js';
export { OverlayTileExtension, OverlayTiles } from './overlay-extension.js';
export { cellColor, INFERNO, type LabelStyle, type OverlayStyle, overlayPixels } from './overlay-pixels.js';
export { predictionLayer, type Refresh } from './prediction.js';
export { DEFAULT_LAYER_SETTINGS, followLayers, type LayerSettings, overlayStyle, sharedLayers } from './settings.js';
export { LayerStack, type Scene, type ShownPrediction } from './stack.js';
export {
  DEFAULT_CLASSES,
  type ScribbleClass,
  type ShownStroke,
  strokeHaloLayer,
  strokeLayer,
} from './strokes.js';
