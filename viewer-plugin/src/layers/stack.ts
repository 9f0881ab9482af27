import type { PredictionRecord } from '@impartial/shared/protocol';
import { type ChannelSetting, imageLayer, type LoadedZarr } from './image.js';
import type { OverlayTiles } from './overlay-extension.js';
import { predictionLayer, type Refresh } from './prediction.js';
import { type LayerSettings, overlayStyle } from './settings.js';
import { drawingLayers, type ScribbleClass, type ShownStroke, strokeHaloLayer, strokeLayer } from './strokes.js';

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
  /** The view's zoom (the strokes' halo is a few screen pixels wide at any zoom). */
  zoom: number;
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
    const layers = [
      this.image(scene),
      this.prediction(scene),
      ...this.strokes(scene),
      ...drawingLayers(scene.drawing, scene.classes, scene.zoom),
    ];
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
      predictionLayer({
        id: `prediction-${p.record.model}`,
        labels: p.labels,
        prediction: p.image,
        overlay,
        refresh,
        visible: l.prediction || l.entropy,
        into: p.tiles,
      }),
    );
  }

  /** The strokes over their halo; one data array for both, so a zoom recomputes only the halo's widths. */
  private strokes({ strokes, pending, seq, settings, classes, zoom }: Scene) {
    const key = `${seq}|${pending.length}|${settings.strokes}`;
    const data = this.cached('stroke-data', key, () => [...strokes, ...pending]);
    // The halo's width follows the zoom in steps of 1/8 (a width change too small to see costs a pass).
    const step = Math.round(zoom * 8) / 8;
    return [
      this.cached('stroke-halo', `${key}|${step}`, () => strokeHaloLayer('stroke-halo', data, step, settings.strokes)),
      this.cached('strokes', `${key}|${JSON.stringify(classes)}`, () =>
        strokeLayer('strokes', data, classes, settings.strokes),
      ),
    ];
  }
}
