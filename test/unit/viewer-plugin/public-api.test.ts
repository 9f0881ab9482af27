import assert from 'node:assert/strict';
import { it } from 'node:test';
import { publicApi } from '../../helpers/public-api.js';

/*
 * The public API of @impartial/viewer-plugin (the element, its bridge client and the layer set, for
 * pages and Viv hosts): every name of every entry of its package.json exports. A change here is a
 * change for its users: update the list on purpose.
 */

const EXPECTED: Record<string, string[]> = {
  '.': [
    'BridgeClient',
    'type ImageLoadedDetail',
    'ImpartialViewer',
    'type ImpartialViewerEventMap',
    'type LayerSettings',
    'type RenderedDetail',
    'type ScribbleClass',
    'type Tool',
    'type TrainingProgressDetail',
    'type View',
  ],
  './element': ['type ChannelChange', 'ImpartialViewer'],
  './bridge-client': ['BridgeClient'],
  './layers': [
    'autoContrast',
    'cellColor',
    'type ChannelSetting',
    'channelSettings',
    'DEFAULT_CLASSES',
    'DEFAULT_LAYER_SETTINGS',
    'followLayers',
    'HALO_PIXELS',
    'haloWidth',
    'imageLayer',
    'INFERNO',
    'type LabelStyle',
    'type LayerSettings',
    'LayerStack',
    'type LoadedZarr',
    'overlayPixels',
    'overlayStyle',
    'type OverlayStyle',
    'OverlayTileExtension',
    'OverlayTiles',
    'predictionLayer',
    'type Refresh',
    'sameTileGrid',
    'type Scene',
    'type ScribbleClass',
    'sharedLayers',
    'type ShownPrediction',
    'type ShownStroke',
    'strokeHaloLayer',
    'strokeLayer',
  ],
  './layers/contrast': ['brightestPixel', 'type ChannelWindow', 'CONTRAST_LEVEL', 'contrastWindow', 'contrastWindows'],
  './layers/halo': ['HALO_PIXELS', 'haloWidth'],
  './layers/overlay-pixels': ['cellColor', 'INFERNO', 'type LabelStyle', 'overlayPixels', 'type OverlayStyle'],
  './host': [
    'createImpartialLayers',
    'DEFAULT_CLASSES',
    'type DrawingHooks',
    'type DrawingSettings',
    'type HostPrediction',
    'IMPARTIAL_LAYER_IDS',
    'type ImpartialLayerOptions',
    'ImpartialOverlay',
    'type LayerSettings',
    'type OverlayOptions',
    'PointerDrawing',
    'type ScreenToImage',
    'type ScribbleClass',
    'type ShownStroke',
    'type Size',
    'type Tool',
    'vivSuffix',
  ],
  './view': [
    'clampView',
    'FIRST_LOOK_SIDE',
    'firstLookRect',
    'fitView',
    'MAX_ZOOM',
    'pointerOnImage',
    'type ScreenToImage',
    'type Size',
    'type View',
    'viewOfRect',
    'visibleRect',
  ],
  './tools/outline-shape': [
    'CLICK_PIXELS',
    'CLOSE_PIXELS',
    'closedOutline',
    'type ImagePoint',
    'OutlineShape',
    'polygonArea',
  ],
};

it('@impartial/viewer-plugin exports exactly its public API', () => {
  assert.deepEqual(publicApi('viewer-plugin'), EXPECTED);
});
