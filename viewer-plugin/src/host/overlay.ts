import type { Layer } from '@deck.gl/core';
import type { PredictionRecord, Rect, TrainRequest } from '@impartial/shared/protocol';
import { BridgeClient } from '../bridge-client.js';
import { DEFAULT_LAYER_SETTINGS, type LayerSettings } from '../layers/settings.js';
import { DEFAULT_CLASSES, type ScribbleClass, type ShownStroke } from '../layers/strokes.js';
import { PredictionState } from '../state/prediction.js';
import { firstLookRect, type ScreenToImage, type Size, visibleRect } from '../state/view.js';
import { PointerDrawing, type Tool } from '../tools/pointer-drawing.js';
import { createImpartialLayers } from './layer-set.js';

export interface OverlayOptions {
  /** The bridge's address (`http://127.0.0.1:8000`). */
  bridge: string;
  /** The bridge's token or a user's session token; none for a bridge without one. */
  token?: string;
  /** The bridge's id of the image the host shows. */
  image: string;
  /** Shown to the others as the author of this page's strokes. */
  name?: string;
  /**
   * The deck viewport that shows the image, where a pointer is on the image: `deck.isInitialized ?
   * deck.getViewports()[0] : undefined` (deck asserts when asked before it has started).
   */
  viewport(): ScreenToImage | undefined;
  /** The image's size at level 0 (Viv's `getImageSize(loader[0])`): predictions start with the visible part. */
  imageSize?: Size;
  /** A DOM element drawn as the brush's footprint under the pointer; none: no footprint. */
  brushCursor?: HTMLElement | null;
}

/**
 * ImPartial on a host's own deck.gl canvas: the bridge connection of one image (strokes, training,
 * predictions, live sync with every viewer and Fiji), the drawing tools, and the layers to add after
 * the host's image layer (`layers()`). It fires `change` when they should be drawn again.
 *
 * The host wires `pointer.down/move/up/leave/doubleClick` to the element around its canvas, and turns
 * deck's drag-panning off while `tool` is not 'pan'.
 */
export class ImpartialOverlay extends EventTarget {
  readonly client: BridgeClient;
  tool: Tool = 'pan';
  /** The class painted: 1 = cell, 2 = background (`classes` for more). */
  strokeClass = 1;
  /** Brush width in image pixels. */
  brushWidth = 4;
  classes: readonly ScribbleClass[] = DEFAULT_CLASSES;
  settings: LayerSettings = { ...DEFAULT_LAYER_SETTINGS };
  /** The host's zoom; set it on every view change (the brush footprint and halo follow it). */
  zoom = 0;
  readonly pointer: PointerDrawing;
  private readonly predictions: PredictionState;
  private trainingRequested = false;
  private strokeData: { key: string; data: ShownStroke[] } = { key: '', data: [] };

  constructor(private readonly options: OverlayOptions) {
    super();
    const name = options.name ?? 'viv-host';
    this.client = new BridgeClient(options.bridge, options.token ?? null, options.image, name);
    this.predictions = new PredictionState({
      bridge: options.bridge,
      token: options.token ?? '',
      image: null,
      // The host draws the image: the overlay always has its own layers.
      overlayInImagePass: false,
    });
    this.pointer = new PointerDrawing(this, {
      viewport: () => options.viewport(),
      brushCursor: () => options.brushCursor ?? null,
      changed: () => this.changed(),
      finished: (drawing) => {
        this.client.draw(drawing);
        this.changed();
      },
      outlined: (points) => {
        this.client.outline(points);
        this.changed();
      },
    });
    this.listen();
  }

  /** What the drawing tools read of the view. */
  get view(): { zoom: number } {
    return { zoom: this.zoom };
  }

  /** The prediction shown (its record), once one was opened. */
  get prediction(): PredictionRecord | null {
    return this.predictions.shown?.record ?? null;
  }

  connect(): void {
    this.client.connect();
  }

  close(): void {
    this.client.close();
  }

  /** The layers as of now; `viewId`: the Viv view that draws them (see `createImpartialLayers`). */
  layers(viewId?: string): Layer[] {
    const shown = this.predictions.shown;
    return createImpartialLayers({
      zoom: this.zoom,
      prediction: shown ? { image: shown.image, labels: shown.labels, refresh: this.predictions.refresh } : null,
      strokes: this.strokes(),
      drawing: this.pointer.stroke,
      classes: this.classes,
      settings: this.settings,
      ...(viewId === undefined ? {} : { viewId }),
    });
  }

  /** Trains the project's model on the strokes so far; the new model's prediction follows. */
  train(options: TrainRequest = {}): void {
    this.trainingRequested = true;
    this.client.train(options);
  }

  /** Asks for a prediction with the current model, the visible part of the image first. */
  predict(passes?: number, dropout?: boolean): void {
    this.client.inferView(this.visible(), passes, dropout);
  }

  /**
   * No model yet: the shipped starting model's prediction of what is in view (see `firstLookRect`).
   * Until deck has started there is no view (its WebGL start can take seconds on a busy machine): it
   * looks again on every frame for up to `waitMs`.
   */
  firstLook(waitMs = 60_000): void {
    const until = performance.now() + waitMs;
    const look = () => {
      const visible = this.visible();
      if (visible) this.client.infer({ viewport: firstLookRect(visible), viewportOnly: true });
      else if (performance.now() < until) requestAnimationFrame(look);
    };
    look();
  }

  setLayers(settings: Partial<LayerSettings>): void {
    this.settings = { ...this.settings, ...settings };
    this.changed();
  }

  private visible(): Rect | undefined {
    const vp = this.options.viewport();
    return vp && this.options.imageSize ? visibleRect(vp, this.options.imageSize) : undefined;
  }

  /** Saved strokes and pending ones, one array while neither changes (deck then keeps its buffers). */
  private strokes(): ShownStroke[] {
    const key = `${this.client.seq}|${[...this.client.pending.keys()].join(',')}`;
    if (this.strokeData.key !== key)
      this.strokeData = { key, data: [...this.client.drawings, ...this.client.pending.values()] };
    return this.strokeData.data;
  }

  private changed(): void {
    this.dispatchEvent(new Event('change'));
  }

  private async showPrediction(record: PredictionRecord, tiles: readonly Rect[] = []): Promise<void> {
    if (await this.predictions.update(record, tiles)) this.changed();
  }

  private listen(): void {
    const on = <T>(type: string, handle: (detail: T) => void) =>
      this.client.addEventListener(type, (e) => handle((e as CustomEvent<T>).detail));
    on<{ prediction?: PredictionRecord | null; currentModel?: string | null }>('welcome', (m) => {
      this.changed();
      if (m.prediction) void this.showPrediction(m.prediction);
      else if (!m.currentModel) this.firstLook();
    });
    on('entry', () => this.changed());
    on<{ prediction: PredictionRecord; tiles: Rect[] }>(
      'tiles',
      (m) => void this.showPrediction(m.prediction, m.tiles),
    );
    on('model', () => {
      // The page that asked for the training asks for the prediction; the others receive its tiles.
      if (!this.trainingRequested) return;
      this.trainingRequested = false;
      this.predict();
    });
  }
}
