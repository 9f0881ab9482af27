import type { Layer } from '@deck.gl/core';
import type { LoadedZarr } from '../layers/image.js';
import { predictionLayer, type Refresh } from '../layers/prediction.js';
import { DEFAULT_LAYER_SETTINGS, type LayerSettings, overlayStyle } from '../layers/settings.js';
import {
  DEFAULT_CLASSES,
  drawingLayers,
  type ScribbleClass,
  type ShownStroke,
  strokeHaloLayer,
  strokeLayer,
} from '../layers/strokes.js';

/** A prediction to draw: its image (channel 1, the entropy) and instance labels, as Viv's loader opened them. */
export interface HostPrediction {
  image: LoadedZarr;
  labels: LoadedZarr;
  /** Which tiles to fetch again: a new `serial` after the bridge announced new tiles (default: none). */
  refresh?: Refresh;
}

/** What the layers show; all but `zoom` may be left out. */
export interface ImpartialLayerOptions {
  /** The view's zoom (log2 of screen pixels per image pixel): the strokes' halo is a few screen pixels wide. */
  zoom: number;
  prediction?: HostPrediction | null;
  /** Saved strokes, then the ones sent and not yet saved. Pass the same array again to skip re-uploading it. */
  strokes?: readonly ShownStroke[];
  /** The stroke under the pointer. */
  drawing?: ShownStroke | null;
  classes?: readonly ScribbleClass[];
  /** Which layers show and how (the element's layer panel settings). */
  settings?: Partial<LayerSettings>;
  /**
   * The id of the Viv view that shows them (a host on Viv's `VivViewer`): each layer's id then carries
   * `-#VIEW#`, which is how `VivViewer` decides which of its views draws a layer.
   */
  viewId?: string;
}

/** The ids of the layers, before a view's suffix. */
export const IMPARTIAL_LAYER_IDS = {
  entropy: 'impartial-entropy',
  prediction: 'impartial-prediction',
  scribbleHalo: 'impartial-scribbles-halo',
  scribbles: 'impartial-scribbles',
  drawing: 'impartial-drawing',
} as const;

/** Viv's view suffix (its `getVivId`): VivViewer draws a layer in the view whose suffix its id contains. */
export const vivSuffix = (viewId: string) => `-#${viewId}#`;

const NO_REFRESH: Refresh = { serial: 0, rects: 'all' };

/**
 * ImPartial's layers for a deck.gl 9.2 / Viv host that draws the image itself: the entropy map, the
 * predicted cells over it, the scribbles over their dark halo, and the stroke being drawn. Put them
 * after the host's image layer. They are new instances on every call, as deck.gl expects; deck keeps
 * their state (fetched tiles) by id.
 */
export function createImpartialLayers(options: ImpartialLayerOptions): Layer[] {
  const settings = { ...DEFAULT_LAYER_SETTINGS, ...options.settings };
  const suffix = options.viewId === undefined ? '' : vivSuffix(options.viewId);
  const id = (name: keyof typeof IMPARTIAL_LAYER_IDS) => `${IMPARTIAL_LAYER_IDS[name]}${suffix}`;
  const classes = options.classes ?? DEFAULT_CLASSES;
  const strokes = options.strokes ?? [];
  const layers: Layer[] = [];
  const p = options.prediction;
  if (p) {
    const style = overlayStyle(settings);
    const common = { labels: p.labels, prediction: p.image, refresh: p.refresh ?? NO_REFRESH };
    // Two layers, each reading only its own part of the tiles, so that either can be hidden alone.
    layers.push(
      predictionLayer({
        ...common,
        id: id('entropy'),
        overlay: { ...style, cells: false },
        visible: settings.entropy,
        parts: 'entropy',
      }),
      predictionLayer({
        ...common,
        id: id('prediction'),
        overlay: { ...style, entropy: false },
        visible: settings.prediction,
        parts: 'cells',
      }),
    );
  }
  layers.push(
    strokeHaloLayer(id('scribbleHalo'), strokes, options.zoom, settings.strokes),
    strokeLayer(id('scribbles'), strokes, classes, settings.strokes),
    ...drawingLayers(options.drawing ?? null, classes, options.zoom, id('drawing')),
  );
  return layers;
}
