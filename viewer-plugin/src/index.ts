export { BridgeClient } from './bridge-client.js';
export type {
  ImageLoadedDetail,
  ImpartialViewerEventMap,
  RenderedDetail,
  TrainingProgressDetail,
} from './events.js';
export { ImpartialViewer } from './impartial-viewer.js';
export type { LayerSettings } from './layers/settings.js';
export type { ScribbleClass } from './layers/strokes.js';
export type { View } from './state/view.js';
export type { Tool } from './tools/pointer-drawing.js';
