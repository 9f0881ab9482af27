import type { PredictionRecord } from '@impartial/shared/protocol';
import { type ChannelSetting, imageLayer, type LoadedZarr } from './image.js';
import type { OverlayTiles } from './overlay-extension.js';
import { predictionLayer, type Refresh } from './prediction.js';
import { type LayerSettings, overlayStyle } from './settings.js';
import { type ScribbleClass, type ShownStroke, strokeLayer } from './strokes.js';

/** A prediction being shown; `tiles` is set when its overlay is drawn in the image's pass (same tile grid). */
export interface ShownPrediction {
  record: PredictionRecord;
  image: LoadedZarr;
  labels: LoadedZarr;
  tiles: OverlayTiles | null;
}

/** Everything the viewer draws, as of now. */
export interface Scene {
  image: LoadedZarr;
  channels: readonly ChannelSetting[];
  prediction: ShownPrediction | null;
  refresh: Refresh;
  settings: LayerSettings;
  classes: readonly ScribbleClass[];
  /** Saved strokes in effect; `seq` (the log's last) changes when they do. */
  strokes: readonly ShownStroke[];
  seq: number;
  /** Strokes sent and not yet acknowledged. */
  pending: readonly ShownStroke[];
  /** The stroke under the pointer, not sent yet. */
  drawing: ShownStroke | null;
}

/**
 * deck.gl layers from a scene. A layer is rebuilt only when what it shows changes: a new Viv or tile
 * layer instance would refetch tiles and recompile shaders.
 */
export class LayerStack {
  private readonly memo = new Map<string, { key: string; layer: unknown }>();
  private readonly used = new Set<string>();

  layers(scene: Scene): unknown[] {
    this.used.clear();
    const layers = [this.image(scene), this.prediction(scene), this.strokes(scene), drawingLayer(scene)];
    // deck finalizes a layer it no longer draws: one that comes back must be a new instance. (Hidden
    // layers stay, with `visible: false`, so that showing them again needs no refetch.)
    for (const name of this.memo.keys()) if (!this.used.has(name)) this.memo.delete(name);
    return layers;
  }

  private cached<T>(name: string, key: string, make: () => T): T {
    this.used.add(name);
    const hit = this.memo.get(name);
    if (hit && hit.key === key) return hit.layer as T;
    const layer = make();
    this.memo.set(name, { key, layer });
    return layer;
  }

  private image({ image, channels, prediction: p, settings: l }: Scene) {
    const overlayOn = l.prediction || l.entropy;
    return this.cached('image', `${JSON.stringify(channels)}|${p?.tiles?.id}|${overlayOn}`, () =>
      imageLayer(image, channels, p?.tiles ?? null, overlayOn && !!p?.tiles),
    );
  }

  private prediction({ prediction: p, refresh, settings: l }: Scene) {
    if (!p) return null;
    const overlay = overlayStyle(l);
    const key = `${p.record.model}|${p.tiles?.id}|${refresh.serial}|${JSON.stringify(overlay)}`;
    return this.cached('prediction', key, () =>
      predictionLayer(
        `prediction-${p.record.model}`,
        p.labels,
        p.image,
        overlay,
        refresh,
        l.prediction || l.entropy,
        p.tiles,
      ),
    );
  }

  private strokes({ strokes, pending, seq, settings, classes }: Scene) {
    const key = `${seq}|${pending.length}|${settings.strokes}|${JSON.stringify(classes)}`;
    return this.cached('strokes', key, () =>
      strokeLayer('strokes', [...strokes, ...pending], classes, settings.strokes),
    );
  }
}

/** The stroke being drawn: a new layer on every point (it is one short path). */
function drawingLayer({ drawing, classes }: Scene) {
  return strokeLayer(`drawing-${drawing?.points.length ?? 0}`, drawing ? [drawing] : [], classes);
}
