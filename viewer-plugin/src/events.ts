import type { LogEntry, PredictionRecord, ServerMessage } from '@impartial/shared/protocol';
import type { ChannelSetting } from './layers/image.js';
import type { View } from './state/view.js';

/** A frame on screen: its number (from 1) and whether every layer had its data then (all tiles in). */
export interface RenderedDetail {
  frame: number;
  loaded: boolean;
}

export interface ImageLoadedDetail {
  channels: ChannelSetting[];
}

export type TrainingProgressDetail = Extract<ServerMessage, { type: 'train-progress' }>;

/** The events of <impartial-viewer>, by name. All but `rendered` bubble and cross shadow roots. */
export interface ImpartialViewerEventMap {
  /** A frame is on screen: what latency measurements, tests and hosts that sync to frames listen for. */
  rendered: CustomEvent<RenderedDetail>;
  /** The image is open; its channels with their display settings. */
  'image-loaded': CustomEvent<ImageLoadedDetail>;
  /** This viewer's view or layers changed here (pan, zoom, flyTo, setLayers); not when following another. */
  'view-change': CustomEvent<View>;
  /** A person changed the channels' display here (the channel panel, auto contrast); not when a host set it. */
  'channels-change': CustomEvent<ChannelSetting[]>;
  /** An entry of the stroke log arrived (this viewer's own strokes too, once saved). */
  stroke: CustomEvent<LogEntry>;
  /** A prediction is complete and shown. */
  prediction: CustomEvent<PredictionRecord>;
  /** A training step's progress, from whichever client started the training. */
  'training-progress': CustomEvent<TrainingProgressDetail>;
}

declare global {
  // So that `addEventListener('rendered', (e) => e.detail.frame)` type-checks on the element.
  interface HTMLElementEventMap extends ImpartialViewerEventMap {}
}

/** One of the element's events. */
export function viewerEvent<K extends keyof ImpartialViewerEventMap>(
  type: K,
  detail: ImpartialViewerEventMap[K]['detail'],
): ImpartialViewerEventMap[K] {
  const spreads = type !== 'rendered';
  return new CustomEvent(type, { detail, bubbles: spreads, composed: spreads }) as ImpartialViewerEventMap[K];
}
