import type { ViewState } from '@impartial/shared/protocol';
import type { LabelStyle, OverlayStyle } from './overlay-pixels.js';

/** Which layers show and how: the layers panel's state, shared with viewers that follow this one. */
export interface LayerSettings {
  strokes: boolean;
  prediction: boolean;
  entropy: boolean;
  predictionOpacity: number;
  entropyOpacity: number;
  /** Entropy below this shows nothing (ln 2 is the most uncertain). */
  entropyLow: number;
  labelStyle: LabelStyle;
}

export const DEFAULT_LAYER_SETTINGS: Readonly<LayerSettings> = {
  strokes: true,
  prediction: true,
  entropy: true,
  predictionOpacity: 0.6,
  entropyOpacity: 0.5,
  entropyLow: 0.2,
  labelStyle: 'both',
};

/** How the prediction overlay draws cells and entropy under these settings. */
export function overlayStyle(l: LayerSettings): OverlayStyle {
  return {
    cells: l.prediction,
    cellOpacity: l.predictionOpacity,
    cellStyle: l.labelStyle,
    entropy: l.entropy,
    entropyOpacity: l.entropyOpacity,
    entropyLow: l.entropyLow,
  };
}

/** The layers as a view message carries them to other viewers (and Fiji). */
export function sharedLayers(l: LayerSettings): NonNullable<ViewState['layers']> {
  return {
    strokes: { visible: l.strokes, opacity: 1 },
    prediction: { visible: l.prediction, opacity: l.predictionOpacity },
    entropy: { visible: l.entropy, opacity: l.entropyOpacity },
  };
}

/** These settings with what a followed viewer shows; layers its message leaves out stay as they are. */
export function followLayers(l: LayerSettings, shared: NonNullable<ViewState['layers']>): LayerSettings {
  return {
    ...l,
    ...(shared.strokes ? { strokes: shared.strokes.visible } : {}),
    ...(shared.prediction
      ? { prediction: shared.prediction.visible, predictionOpacity: shared.prediction.opacity }
      : {}),
    ...(shared.entropy ? { entropy: shared.entropy.visible, entropyOpacity: shared.entropy.opacity } : {}),
  };
}
