import type { PredictionRecord, Rect } from '@impartial/shared/protocol';
import { getImageSize } from '@vivjs/loaders';
import { html, LitElement, type PropertyValues } from 'lit';
import { BridgeClient } from './bridge-client.js';
import { viewerEvent } from './events.js';
import { autoContrast, type ChannelSetting, channelSettings, type LoadedZarr } from './layers/image.js';
import { DEFAULT_LAYER_SETTINGS, type LayerSettings, sharedLayers } from './layers/settings.js';
import { Stage } from './layers/stage.js';
import { DEFAULT_CLASSES, type ScribbleClass } from './layers/strokes.js';
import { type CatalogueView, cataloguePanel } from './panels/catalogue.js';
import { channelPanel } from './panels/channels.js';
import { layersPanel } from './panels/layers.js';
import { viewerStyles } from './panels/styles.js';
import { toolbar } from './panels/toolbar.js';
import { type TrainingView, trainingPanel } from './panels/training.js';
import { listenToBridge, saveStatus } from './state/bridge-events.js';
import { CatalogueState, EMPTY_CATALOGUE } from './state/catalogue.js';
import { PredictionState } from './state/prediction.js';
import { imageUrl, openZarr } from './state/sources.js';
import { trainingActions } from './state/training.js';
import { clampView, firstLookRect, fitView, type View, viewOfRect, visibleRect } from './state/view.js';
import { PointerDrawing, type Tool } from './tools/pointer-drawing.js';
import { runShortcut } from './tools/shortcuts.js';

/**
 * <impartial-viewer src bridge token image-id>: a multiplexed OME-Zarr on Viv/deck.gl with
 * scribble, prediction and entropy layers, synced live with an ImPartial bridge. Works view-only
 * on a static OME-Zarr when no bridge is given.
 */
export class ImpartialViewer extends LitElement {
  static override properties = {
    src: { type: String },
    bridge: { type: String },
    token: { type: String },
    imageId: { type: String, attribute: 'image-id' },
    name: { type: String },
    tool: { type: String, reflect: true },
    strokeClass: { type: Number },
    brushWidth: { type: Number },
    status: { state: true },
    training: { state: true },
    others: { state: true },
    panel: { state: true },
    catalogue: { state: true },
    follow: { type: Boolean },
    classes: { attribute: false },
  };

  static override styles = viewerStyles;

  declare src: string;
  declare bridge: string;
  declare token: string;
  declare imageId: string;
  declare name: string;
  declare tool: Tool;
  declare strokeClass: number;
  declare brushWidth: number;
  declare status: string;
  declare training: string;
  /** Names of the others on the image. */
  declare others: string[];
  declare panel: TrainingView;
  /** The shared-models panel: the bridge's catalogue as searched. */
  declare catalogue: CatalogueView;
  declare follow: boolean;
  /** The scribble palette (keys 1-9 pick a class); set it to add classes. */
  declare classes: ScribbleClass[];

  client: BridgeClient | null = null;
  image: LoadedZarr | null = null;
  channels: ChannelSetting[] = [];
  layers: LayerSettings = { ...DEFAULT_LAYER_SETTINGS };
  /** The channels the model reads (chosen apart from those shown); all by default. */
  trainChannels = new Set<number>();
  /** Draw the prediction overlay inside the image layer's pass when the tile grids match (off: its own pass). */
  overlayInImagePass = true;
  /** What the Train button asks for (budget, model size: see TrainRequest). */
  trainOptions: Record<string, unknown> = {};
  /** The camera; after setting it, call `redraw()`. */
  view: View = { target: [0, 0, 0], zoom: 0 };
  /** Set by the Train button: this viewer then asks for the new model's prediction. */
  trainingRequested = false;
  private stage: Stage | null = null;
  private readonly predictions = new PredictionState(this);
  private readonly trainingActions = trainingActions(this);
  private readonly catalogueState = new CatalogueState(this);
  private readonly catalogueActions = this.catalogueState.actions();
  private readonly pointer = new PointerDrawing(this, {
    viewport: () => this.stage?.viewport,
    brushCursor: () => this.renderRoot.querySelector<HTMLElement>('.brush'),
    changed: () => this.redraw(),
    finished: (drawing) => {
      this.client?.draw(drawing);
      this.status = saveStatus(this.client);
      this.redraw();
    },
    outlined: (points) => {
      this.client?.outline(points);
      this.status = saveStatus(this.client);
      this.redraw();
    },
  });
  private loaded = '';

  constructor() {
    super();
    this.src = '';
    this.bridge = '';
    this.token = '';
    this.imageId = '';
    this.name = 'viewer';
    this.classes = DEFAULT_CLASSES;
    this.tool = 'pan';
    this.strokeClass = 1;
    this.brushWidth = 4;
    this.status = '';
    this.training = '';
    this.others = [];
    this.follow = false;
    this.panel = { running: false, live: false, text: '', losses: [], models: [], current: null, suggestions: [] };
    this.catalogue = EMPTY_CATALOGUE;
  }

  /** The project's current model version. */
  get currentModel(): string | null {
    return this.panel.current;
  }

  /** The prediction shown; its `tiles` are set when its overlay is drawn in the image's pass. */
  get prediction() {
    return this.predictions.shown;
  }

  /** Whether the screen shows the image and all asked of it since, every layer's data (all tiles) in. */
  get settled(): boolean {
    return !!this.image && !!this.stage?.settled;
  }

  override render() {
    // Without a bridge the element is a viewer only: no scribble tools, layers or training.
    const live = !!(this.bridge && this.imageId);
    return html`<div class="stage" @pointerdown=${this.pointer.down} @pointermove=${this.pointer.move}
        @pointerup=${this.pointer.up} @pointerleave=${this.pointer.leave}
        @dblclick=${this.pointer.doubleClick}></div>
      <div class="brush" hidden></div>
      ${toolbar(this, live)}
      <div class="side">
        ${channelPanel(this, live)}
        ${live ? layersPanel(this) : ''}
        ${this.client ? trainingPanel(this.panel, this.trainingActions) : ''}
        ${this.client ? cataloguePanel(this.catalogue, this.catalogueActions) : ''}
      </div>
      <div class="status">${this.status}${this.training ? html` · ${this.training}` : ''}${
        this.others.length ? html` · <span class="others">also here: ${this.others.join(', ')}</span>` : ''
      }</div>`;
  }

  override firstUpdated(): void {
    this.tabIndex = 0;
    this.addEventListener('keydown', (e) => runShortcut(this, e));
    this.stage = new Stage(this.renderRoot.querySelector<HTMLElement>('.stage')!, this.view, {
      viewChanged: (view) => {
        this.view = clampView(view);
        this.redraw();
        this.emitView();
      },
      // A frame is on screen: what latency measurements (and hosts that sync to frames) listen for.
      rendered: (frame) => this.dispatchEvent(viewerEvent('rendered', frame)),
    });
    void this.load();
  }

  override updated(changed: PropertyValues<this>): void {
    if (changed.has('classes')) this.redraw();
    if (changed.has('tool')) {
      this.pointer.cancel();
      this.stage?.dragPans(this.tool === 'pan');
    }
    if (this.stage && this.loaded !== this.sourceKey()) void this.load();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.client?.close();
    this.stage?.finalize();
  }

  /** Loads the image (and connects to the bridge when one is given). */
  async load(): Promise<void> {
    this.loaded = this.sourceKey();
    const url = imageUrl(this.src, this.bridge, this.imageId);
    if (!url) return;
    this.status = 'loading image...';
    try {
      this.image = await openZarr(url, this.token || null);
    } catch (e) {
      this.status = `cannot open ${url}: ${(e as Error).message}`;
      return;
    }
    this.channels = channelSettings(this.image);
    this.trainChannels = new Set(this.channels.map((c) => c.index));
    try {
      this.channels = await autoContrast(this.image, this.channels);
    } catch {
      /* keep the file's windows */
    }
    this.fitView();
    this.status = this.bridge ? 'connecting...' : 'view only';
    if (this.bridge && this.imageId) this.connect();
    this.redraw();
    this.dispatchEvent(viewerEvent('image-loaded', { channels: this.channels }));
  }

  /** Asks for a prediction, the visible area first. */
  predict(passes?: number, dropout?: boolean): void {
    if (!this.client) return;
    this.client.inferView(this.visible(), passes, dropout);
  }

  /**
   * With no model yet: the shipped starting model's prediction of what is in view (its middle, when
   * zoomed out on a large slide), so that a new image shows cells before any stroke.
   */
  firstLook(): void {
    const ask = () => {
      const visible = this.visible();
      if (visible) this.client?.infer({ viewport: firstLookRect(visible), viewportOnly: true });
    };
    if (this.stage?.viewport) ask();
    else this.addEventListener('rendered', ask, { once: true });
  }

  /** The part of the image on screen; undefined before the first frame. */
  visible(): Rect | undefined {
    const vp = this.stage?.viewport;
    return vp && this.image ? visibleRect(vp, getImageSize(this.image.data[0]!)) : undefined;
  }

  /** Trains on from the current model with the training panel's budget (a published model, fine-tuned). */
  fineTune(): void {
    const field = (n: string) =>
      this.renderRoot.querySelector<HTMLInputElement | HTMLSelectElement>(`.side [name=${n}]`)?.value;
    const unit = field('unit') === 'steps' ? 'steps' : 'seconds';
    this.trainingActions.train({
      [unit]: Number(field('budget')),
      learningRate: Number(field('lr')),
      patch: Number(field('patch')),
      init: 'current',
    });
  }

  /** Loads the shared-models panel again. */
  refreshCatalogue(): void {
    void this.catalogueState.refresh();
  }

  /** Shows a model's prediction; `tiles` (level-0 rectangles) changed since the last call, none: everything. */
  async showPrediction(record: PredictionRecord, tiles: readonly Rect[] = []): Promise<void> {
    if (!(await this.predictions.update(record, tiles))) return;
    this.redraw();
    if (record.status === 'complete') this.dispatchEvent(viewerEvent('prediction', record));
  }

  /** Centres the view on a rectangle of the image (a suggested tile) and zooms to fit it. */
  flyTo(r: Rect): void {
    this.view = viewOfRect(r, this.getBoundingClientRect());
    this.redraw();
    this.emitView();
  }

  async autoContrast(): Promise<void> {
    if (!this.image) return;
    this.channels = await autoContrast(this.image, this.channels);
    this.redraw();
    this.requestUpdate();
    this.channelsChanged();
  }

  channelsChanged(): void {
    this.dispatchEvent(viewerEvent('channels-change', this.channels));
  }

  /** Fits the whole image into the element. */
  fitView(): void {
    if (!this.image) return;
    const side = this.renderRoot.querySelector<HTMLElement>('.side')?.offsetWidth ?? 0;
    this.view = fitView(getImageSize(this.image.data[0]!), this.getBoundingClientRect(), side);
    this.redraw();
  }

  /** Shows or hides layers and sets their opacity. */
  setLayers(settings: Partial<LayerSettings>): void {
    this.layers = { ...this.layers, ...settings };
    this.redraw();
    this.requestUpdate();
    this.emitView();
  }

  /**
   * Moves the view, as a host page does (level-0 pixels; zoom as log2 of screen pixels per image
   * pixel). The bridge hears of it (follow mode, live mode); no `view-change` event goes back to the host.
   */
  setView(view: { x: number; y: number; zoom: number }): void {
    this.view = clampView({ target: [view.x, view.y, 0], zoom: view.zoom });
    this.redraw();
    this.sendView();
  }

  /** Changes channels' display by index, as a host page does; what a change leaves out stays as it is. */
  setChannels(changes: ReadonlyArray<ChannelChange>): void {
    this.channels = this.channels.map((c) => {
      const d = changes.find((x) => x.index === c.index);
      if (!d) return c;
      return {
        ...c,
        ...(d.visible !== undefined ? { visible: d.visible } : {}),
        ...(d.color ? { color: d.color } : {}),
        ...(d.window ? { window: d.window } : {}),
      };
    });
    this.requestUpdate();
    this.redraw();
  }

  setTool(tool: Tool): void {
    this.tool = tool;
  }

  /** The outline tool's keys: they act only while a polygon is being placed. */
  get outlineKeys() {
    const pointer = this.pointer;
    return {
      get placing() {
        return pointer.placingOutline;
      },
      close: () => pointer.closeOutline(),
      removeLast: () => pointer.removeOutlineCorner(),
      cancel: () => pointer.cancel(),
    };
  }

  /** Gives deck the layers and view as they are now (after `view` or settings were changed directly). */
  redraw(): void {
    if (!this.stage || !this.image) return;
    const scene = {
      image: this.image,
      channels: this.channels,
      prediction: this.predictions.shown,
      refresh: this.predictions.refresh,
      settings: this.layers,
      classes: this.classes,
      strokes: this.client ? this.client.drawings : [],
      seq: this.client?.seq ?? 0,
      pending: [...(this.client?.pending.values() ?? [])],
      drawing: this.pointer.stroke,
      zoom: this.view.zoom,
    };
    this.stage.show(scene, this.view);
  }

  private sourceKey(): string {
    return `${this.src}|${this.bridge}|${this.imageId}|${this.token}`;
  }

  private connect(): void {
    this.client?.close();
    this.client = new BridgeClient(this.bridge, this.token || null, this.imageId, this.name);
    listenToBridge(this.client, this);
    this.client.connect();
  }

  private emitView(): void {
    this.sendView();
    this.dispatchEvent(viewerEvent('view-change', this.view));
  }

  /** The view to the bridge: for viewers in follow mode, and the area in view for a live training. */
  private sendView(): void {
    const [x, y] = this.view.target;
    const area = this.visible();
    this.client?.view({ x, y, zoom: this.view.zoom, layers: sharedLayers(this.layers), ...(area ? { area } : {}) });
  }
}

/** A channel's display as a host sets it: by index, only what changes. */
export interface ChannelChange {
  index: number;
  visible?: boolean;
  color?: [number, number, number];
  window?: [number, number];
}

declare global {
  interface HTMLElementTagNameMap {
    'impartial-viewer': ImpartialViewer;
  }
}

if (!customElements.get('impartial-viewer')) customElements.define('impartial-viewer', ImpartialViewer);
