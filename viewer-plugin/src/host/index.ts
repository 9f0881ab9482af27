/*
 * For deck.gl 9.2 / Viv hosts that draw the image themselves: ImPartial's layers, the drawing tools'
 * pointer handling, and a bridge session that feeds both. deck.gl, luma.gl and Viv are the host's.
 */
export type { LayerSettings } from '../layers/settings.js';
export { DEFAULT_CLASSES, type ScribbleClass, type ShownStroke } from '../layers/strokes.js';
export type { ScreenToImage, Size } from '../state/view.js';
export { type DrawingHooks, type DrawingSettings, PointerDrawing, type Tool } from '../tools/pointer-drawing.js';
export {
  createImpartialLayers,
  type HostPrediction,
  IMPARTIAL_LAYER_IDS,
  type ImpartialLayerOptions,
  vivSuffix,
} from './layer-set.js';
export { ImpartialOverlay, type OverlayOptions } from './overlay.js';
