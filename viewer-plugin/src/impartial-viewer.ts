import { Deck, OrthographicView } from '@deck.gl/core';
import type { Drawing, ModelRecord, PredictionRecord, Rect, ViewState } from '@impartial/shared/protocol';
import { getImageSize, loadOmeZarrFromStore } from '@vivjs/loaders';
import FetchStore from '@zarrita/storage/fetch';
import { css, html, LitElement, type PropertyValues } from 'lit';
import { BridgeClient } from './bridge-client.js';
import {
  autoContrast,
  type ChannelSetting,
  channelSettings,
  imageLayer,
  type LoadedZarr,
  sameTileGrid,
} from './layers/image.js';
import { OverlayTiles } from './layers/overlay-extension.js';
import type { LabelStyle, OverlayStyle } from './layers/overlay-pixels.js';
import { predictionLayer, type Refresh } from './layers/prediction.js';
import { DEFAULT_CLASSES, type ScribbleClass, type ShownStroke, strokeLayer } from './layers/strokes.js';
import { channelPanel } from './panels/channels.js';
import { type TrainingView, trainingPanel } from './panels/training.js';

type Tool = 'pan' | 'brush' | 'erase';
interface View {
  target: [number, number, number];
  zoom: number;
}

/** Opens an OME-Zarr (NGFF 0.4/0.5) with Viv's loader, sending the bridge token as a header. */
async function openZarr(url: string, token: string | null): Promise<LoadedZarr> {
  const store = new FetchStore(url, token ? { overrides: { headers: { Authorization: `Bearer ${token}` } } } : {});
  return loadOmeZarrFromStore(store as never) as Promise<LoadedZarr>;
}

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
    panel: { state: true },
    follow: { type: Boolean },
    classes: { attribute: false },
  };

  static override styles = css`
    :host { display: block; position: relative; min-height: 300px; background: #111; color: #eee; font: 13px system-ui, sans-serif; outline: none }
    .stage { position: absolute; inset: 0 }
    :host([tool=brush]) .stage, :host([tool=erase]) .stage { cursor: crosshair; touch-action: none }
    .bar { position: absolute; top: 6px; left: 6px; right: 248px; display: flex; gap: 4px; flex-wrap: wrap; z-index: 2; pointer-events: none }
    .bar > * { pointer-events: auto }
    .bar button { background: #2a2a2a; color: #eee; border: 1px solid #555; border-radius: 4px; padding: 3px 8px; cursor: pointer }
    .bar button[aria-pressed=true] { background: #3b6; color: #000 }
    .bar .size { background: #2a2a2a; border: 1px solid #555; border-radius: 4px; padding: 1px 6px } .bar .size input { width: 44px; background: #111; color: #eee; border: 0 }
    .side .model { display: block; width: 100%; text-align: left; font-size: 11px } .side .model[aria-pressed=true] { border-color: #3b6 }
    .brush { position: absolute; pointer-events: none; border: 1.5px solid; border-radius: 50%; z-index: 1; box-shadow: 0 0 0 1px #0008 }
    .swatch { display: inline-block; width: 9px; height: 9px; border-radius: 50%; margin-right: 4px; border: 1px solid #0008 }
    .status { position: absolute; bottom: 6px; left: 6px; z-index: 2; background: #000a; padding: 2px 6px; border-radius: 4px }
    .side { position: absolute; top: 6px; right: 6px; bottom: 6px; width: 230px; overflow: auto; z-index: 2; background: #000c; padding: 6px; border-radius: 6px }
    .side .row { display: flex; gap: 4px; align-items: center; margin: 2px 0 } .side input[type=number] { width: 60px } .side input[type=range] { width: 80px }
    .side button { background: #2a2a2a; color: #eee; border: 1px solid #555; border-radius: 4px; padding: 2px 6px; cursor: pointer; margin: 2px 0 }
    .suggestion { display: block; width: 100% } .models { font-size: 11px; opacity: .85 }`;

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
  declare panel: TrainingView;
  declare follow: boolean;
  /** The scribble palette (keys 1-9 pick a class); set it to add classes. */
  declare classes: ScribbleClass[];

  client: BridgeClient | null = null;
  image: LoadedZarr | null = null;
  channels: ChannelSetting[] = [];
  /** The shown prediction; `tiles` is set when its overlay is drawn in the image's pass (same tile grid). */
  prediction: { record: PredictionRecord; image: LoadedZarr; labels: LoadedZarr; tiles: OverlayTiles | null } | null =
    null;
  layers = {
    strokes: true,
    prediction: true,
    entropy: true,
    predictionOpacity: 0.6,
    entropyOpacity: 0.5,
    entropyLow: 0.2,
    labelStyle: 'both' as LabelStyle,
  };
  /** The channels the model reads (chosen apart from those shown); all by default. */
  trainChannels = new Set<number>();
  /** Draw the prediction overlay inside the image layer's pass when the tile grids match (off: its own pass). */
  overlayInImagePass = true;
  /** What the Train button asks for (budget, model size: see TrainRequest). */
  trainOptions: Record<string, unknown> = {};
  private deck: Deck | null = null;
  private view: View = { target: [0, 0, 0], zoom: 0 };
  private current: Array<[number, number]> | null = null;
  /** Which prediction tiles to fetch again (what the bridge's `tiles` messages announced). */
  private refresh: Refresh = { serial: 0, rects: 'all' };
  private trainingRequested = false;
  private loaded = '';
  private sourceKey(): string {
    return `${this.src}|${this.bridge}|${this.imageId}|${this.token}`;
  }

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
    this.follow = false;
    this.panel = { running: false, text: '', losses: [], models: [], current: null, suggestions: [] };
  }

  override render() {
    // Without a bridge the element is a viewer only: no scribble tools, layers or training.
    const live = !!(this.bridge && this.imageId);
    const b = (label: string, pressed: boolean, on: () => void, title: string) =>
      html`<button aria-pressed=${pressed} title=${title} @click=${on}>${label}</button>`;
    return html`<div class="stage" @pointerdown=${this.down} @pointermove=${this.move} @pointerup=${this.up} @pointerleave=${this.leave}></div>
      <div class="brush" hidden></div>
      <div class="bar">
        ${b('Pan', this.tool === 'pan', () => this.setTool('pan'), 'pan and zoom (H)')}
        ${
          live
            ? html`${this.classes.map(
                (
                  c,
                  k,
                ) => html`<button aria-pressed=${this.tool === 'brush' && this.strokeClass === c.id} title=${`${c.name.toLowerCase()} brush (B, ${k + 1})`}
          @click=${() => {
            this.strokeClass = c.id;
            this.setTool('brush');
          }}><span class="swatch" style=${`background: rgb(${c.color.join(',')})`}></span>${c.name}</button>`,
              )}
        ${b('Eraser', this.tool === 'erase', () => this.setTool('erase'), 'eraser (E)')}
        <label class="size" title="brush size in image pixels ([ and ])">size <input type="number" min="1" max="512" .value=${String(this.brushWidth)}
          @change=${(e: Event) => {
            this.brushWidth = Math.max(1, Math.min(512, Number((e.target as HTMLInputElement).value) || 1));
          }}></label>
        ${b('Undo', false, () => this.client?.undo(), 'Ctrl+Z')} ${b('Redo', false, () => this.client?.redo(), 'Ctrl+Shift+Z')}`
            : ''
        }
      </div>
      <div class="side">
        ${channelPanel(
          this.channels,
          (i, patch) => {
            this.channels = this.channels.map((c) => (c.index === i ? { ...c, ...patch } : c));
            this.redraw();
            this.requestUpdate();
          },
          () => void this.autoContrast(),
          live ? this.trainChannels : null,
          (i) => {
            const next = new Set(this.trainChannels);
            if (next.has(i)) {
              if (next.size > 1) next.delete(i);
            } else next.add(i);
            this.trainChannels = next;
            this.requestUpdate();
          },
        )}
        ${
          live
            ? html`<details open><summary>Layers</summary>
          ${(['strokes', 'prediction', 'entropy'] as const).map(
            (
              k,
            ) => html`<div class="row"><label><input type="checkbox" .checked=${this.layers[k]} @change=${(e: Event) => this.setLayers({ [k]: (e.target as HTMLInputElement).checked })}> ${k}</label>
            ${
              k === 'prediction' || k === 'entropy'
                ? html`<input type="range" min="0" max="1" step="0.05" .value=${String(k === 'prediction' ? this.layers.predictionOpacity : this.layers.entropyOpacity)} title="opacity"
              @input=${(e: Event) => this.setLayers(k === 'prediction' ? { predictionOpacity: Number((e.target as HTMLInputElement).value) } : { entropyOpacity: Number((e.target as HTMLInputElement).value) })}>`
                : ''
            }</div>`,
          )}
          <div class="row"><label>cells as <select @change=${(e: Event) => this.setLayers({ labelStyle: (e.target as HTMLSelectElement).value as LabelStyle })}>
            ${(['both', 'fill', 'outline'] as const).map((v) => html`<option value=${v} ?selected=${this.layers.labelStyle === v}>${v === 'both' ? 'fill + outline' : v}</option>`)}</select></label></div>
          <div class="row"><label>entropy from <input type="range" min="0" max="0.6" step="0.01" .value=${String(this.layers.entropyLow)} @input=${(e: Event) => this.setLayers({ entropyLow: Number((e.target as HTMLInputElement).value) })}></label></div>
          ${
            this.client
              ? html`<div class="row"><label><input type="checkbox" .checked=${this.follow} @change=${(e: Event) => {
                  this.follow = (e.target as HTMLInputElement).checked;
                }}> follow other viewers (and Fiji)</label></div>`
              : ''
          }
        </details>`
            : ''
        }
        ${
          this.client
            ? trainingPanel(this.panel, {
                train: (o) => {
                  this.panel = { ...this.panel, losses: [] };
                  this.trainingRequested = true;
                  const all = this.trainChannels.size === this.channels.length;
                  this.client?.train({
                    ...o,
                    ...(all ? {} : { channels: [...this.trainChannels].sort((a, b) => a - b) }),
                    ...this.trainOptions,
                  });
                },
                stop: () => this.client?.stopTraining(),
                choose: (model) => {
                  this.client?.setCurrentModel(model).then(
                    () => this.predict(),
                    (e: Error) => {
                      this.status = e.message;
                    },
                  );
                },
                predict: (passes) => this.predict(passes),
                flyTo: (r) => this.flyTo(r),
              })
            : ''
        }
      </div>
      <div class="status">${this.status}${this.training ? html` · ${this.training}` : ''}</div>`;
  }

  override firstUpdated(): void {
    this.tabIndex = 0;
    this.addEventListener('keydown', this.key);
    this.deck = new Deck({
      parent: this.renderRoot.querySelector('.stage') as HTMLDivElement,
      views: new OrthographicView({ id: 'ortho', controller: true }),
      viewState: this.view as never,
      // No multisampling: images and label tiles are pixels, not vector edges, and on machines
      // without a GPU (software WebGL) it multiplies the cost of every layer's pass.
      deviceProps: { webgl: { antialias: false } },
      onViewStateChange: ({ viewState }: { viewState: unknown }) => {
        this.view = viewState as unknown as View;
        this.redraw();
        this.emitView();
      },
      // A frame is on screen: what latency measurements (and hosts that sync to frames) listen for.
      onAfterRender: () => this.dispatchEvent(new CustomEvent('rendered')),
    } as never);
    void this.load();
  }

  override updated(changed: PropertyValues<this>): void {
    if (changed.has('classes')) this.redraw();
    if (changed.has('tool'))
      this.deck?.setProps({ controller: this.tool === 'pan' ? true : { dragPan: false } } as never);
    if (this.deck && this.loaded !== this.sourceKey()) void this.load();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.client?.close();
    this.deck?.finalize();
  }

  /** Loads the image (and connects to the bridge when one is given). */
  async load(): Promise<void> {
    this.loaded = this.sourceKey();
    const url =
      this.src || (this.bridge && this.imageId ? new URL(`/zarr/images/${this.imageId}/`, this.bridge).href : '');
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
    this.dispatchEvent(
      new CustomEvent('image-loaded', { detail: { channels: this.channels }, bubbles: true, composed: true }),
    );
  }

  private connect(): void {
    this.client?.close();
    const c = new BridgeClient(this.bridge, this.token || null, this.imageId, this.name);
    this.client = c;
    const on = (type: string, f: (d: never) => void) =>
      c.addEventListener(type, (e) => f((e as CustomEvent).detail as never));
    on('connection', (d: { connected: boolean }) => {
      this.status = d.connected ? this.saveState() : 'reconnecting...';
    });
    on('welcome', (m: { prediction: PredictionRecord | null; models: ModelRecord[]; currentModel: string | null }) => {
      this.panel = { ...this.panel, models: m.models, current: m.currentModel };
      this.redraw();
      if (m.prediction) void this.showPrediction(m.prediction);
    });
    on('view', (m: { view: ViewState }) => {
      if (!this.follow) return;
      this.view = { target: [m.view.x, m.view.y, 0], zoom: m.view.zoom };
      // Shared layer state: what the followed viewer shows, this one shows.
      const l = m.view.layers;
      if (l) {
        this.layers = {
          ...this.layers,
          ...(l.strokes ? { strokes: l.strokes.visible } : {}),
          ...(l.prediction ? { prediction: l.prediction.visible, predictionOpacity: l.prediction.opacity } : {}),
          ...(l.entropy ? { entropy: l.entropy.visible, entropyOpacity: l.entropy.opacity } : {}),
        };
        this.requestUpdate();
      }
      this.redraw();
    });
    on('suggestions', (m: { tiles: TrainingView['suggestions'] }) => {
      this.panel = { ...this.panel, suggestions: m.tiles };
    });
    on('job', (m: { job: { kind: string; status: string } }) => {
      if (m.job.kind === 'train')
        this.panel = { ...this.panel, running: m.job.status === 'running' || m.job.status === 'queued' };
    });
    on('entry', (m: { entry: unknown }) => {
      this.status = this.saveState();
      this.redraw();
      this.dispatchEvent(new CustomEvent('stroke', { detail: m.entry, bubbles: true, composed: true }));
    });
    on(
      'train-progress',
      (m: { step: number; steps: number | null; loss: number; stepsPerSecond: number; etaSeconds: number }) => {
        this.training = `training: step ${m.step}${m.steps ? `/${m.steps}` : ''}, loss ${m.loss.toFixed(3)}, ${m.stepsPerSecond.toFixed(1)} steps/s, ETA ${Math.max(0, Math.round(m.etaSeconds))} s`;
        this.panel = {
          ...this.panel,
          running: true,
          text: this.training,
          losses: [...this.panel.losses, { step: m.step, loss: m.loss }].slice(-500),
        };
        this.dispatchEvent(new CustomEvent('training-progress', { detail: m, bubbles: true, composed: true }));
      },
    );
    on('model', (m: { model: ModelRecord; current: boolean }) => {
      this.training = `model ${m.model.id} (${m.model.steps} steps)`;
      this.panel = {
        ...this.panel,
        running: false,
        text: this.training,
        models: [...this.panel.models.filter((x) => x.id !== m.model.id), m.model],
        current: m.current ? m.model.id : this.panel.current,
      };
      // The viewer that asked for the training asks for the prediction; the others receive its tiles.
      if (this.trainingRequested) {
        this.trainingRequested = false;
        this.predict();
      }
    });
    on(
      'tiles',
      (m: { prediction: PredictionRecord; tiles: Rect[] }) => void this.showPrediction(m.prediction, m.tiles),
    );
    on('infer-progress', (m: { done: number; total: number }) => {
      this.training =
        m.done < m.total ? `predicting: ${m.done}/${m.total} tiles` : `prediction done (${m.total} tiles)`;
    });
    on('error', (m: { message: string }) => {
      this.status = `bridge: ${m.message}`;
    });
    c.connect();
  }

  private saveState(): string {
    const n = this.client?.drawings.length ?? 0;
    return this.client?.pending.size ? `saving ${this.client.pending.size} stroke(s)...` : `saved · ${n} stroke(s)`;
  }

  /** Asks for a prediction, the visible area first. */
  predict(passes?: number): void {
    if (!this.client || !this.deck || !this.image) return;
    const vp = this.deck.getViewports()[0];
    const { width, height } = getImageSize(this.image.data[0]!);
    let viewport: Rect | undefined;
    if (vp) {
      const [x0, y0] = vp.unproject([0, 0]) as [number, number],
        [x1, y1] = vp.unproject([vp.width, vp.height]) as [number, number];
      const x = Math.max(0, Math.floor(x0)),
        y = Math.max(0, Math.floor(y0));
      const w = Math.min(width, Math.ceil(x1)) - x,
        h = Math.min(height, Math.ceil(y1)) - y;
      if (w > 0 && h > 0) viewport = { x, y, width: w, height: h };
    }
    this.client.infer({ ...(viewport ? { viewport } : {}), ...(passes ? { passes } : {}) });
  }

  /** Shows a model's prediction; `tiles` (level-0 rectangles) are what changed since the last call, none: everything. */
  async showPrediction(record: PredictionRecord, tiles: readonly Rect[] = []): Promise<void> {
    if (this.prediction?.record.model !== record.model) {
      // Tiles messages come in bursts: they all wait for one opening of the new prediction.
      if (this.opening?.model !== record.model)
        this.opening = { model: record.model, done: this.openPrediction(record) };
      const opened = await this.opening.done;
      if (this.opening?.model === record.model) this.opening = null;
      if (!opened || this.prediction?.record.model !== record.model) return; // not written yet (the next message retries), or superseded
    }
    this.refresh = { serial: this.refresh.serial + 1, rects: tiles.length ? tiles : 'all' };
    this.prediction.record = record;
    this.redraw();
    if (record.status === 'complete')
      this.dispatchEvent(new CustomEvent('prediction', { detail: record, bubbles: true, composed: true }));
  }

  private opening: { model: string; done: Promise<boolean> } | null = null;

  private async openPrediction(record: PredictionRecord): Promise<boolean> {
    const base = new URL(record.url, this.bridge).href;
    try {
      const [image, labels] = await Promise.all([
        openZarr(base, this.token || null),
        openZarr(`${base}labels/instances/`, this.token || null),
      ]);
      this.prediction = {
        record,
        image,
        labels,
        tiles: this.overlayInImagePass && this.image && sameTileGrid(this.image, labels) ? new OverlayTiles() : null,
      };
      return true;
    } catch {
      return false;
    }
  }

  /** Centres the view on a rectangle of the image (a suggested tile) and zooms to fit it. */
  flyTo(r: { x: number; y: number; width: number; height: number }): void {
    const box = this.getBoundingClientRect();
    this.view = {
      target: [r.x + r.width / 2, r.y + r.height / 2, 0],
      zoom: Math.log2(Math.min((box.width || 800) / r.width, (box.height || 600) / r.height)) - 0.3,
    };
    this.redraw();
    this.emitView();
  }

  async autoContrast(): Promise<void> {
    if (!this.image) return;
    this.channels = await autoContrast(this.image, this.channels);
    this.redraw();
    this.requestUpdate();
  }

  /** Fits the whole image into the element. */
  fitView(): void {
    if (!this.image) return;
    const { width, height } = getImageSize(this.image.data[0]!);
    const r = this.getBoundingClientRect();
    // Fit into the part the side panel leaves free, centred there.
    const side = (this.renderRoot.querySelector('.side') as HTMLElement | null)?.offsetWidth ?? 0;
    const free = Math.max(100, (r.width || 800) - (side ? side + 12 : 0));
    const zoom = Math.log2(Math.min(free / width, (r.height || 600) / height));
    this.view = { target: [width / 2 + (side ? (side + 12) / 2 / 2 ** zoom : 0), height / 2, 0], zoom };
    this.redraw();
  }

  /** Shows or hides layers and sets their opacity. */
  setLayers(settings: Partial<ImpartialViewer['layers']>): void {
    this.layers = { ...this.layers, ...settings };
    this.redraw();
    this.requestUpdate();
    this.emitView();
  }

  setTool(tool: Tool): void {
    this.tool = tool;
  }

  private emitView(): void {
    const l = this.layers;
    this.client?.view({
      x: this.view.target[0],
      y: this.view.target[1],
      zoom: this.view.zoom,
      layers: {
        strokes: { visible: l.strokes, opacity: 1 },
        prediction: { visible: l.prediction, opacity: l.predictionOpacity },
        entropy: { visible: l.entropy, opacity: l.entropyOpacity },
      },
    });
    this.dispatchEvent(new CustomEvent('view-change', { detail: this.view, bubbles: true, composed: true }));
  }

  private toImage(ev: PointerEvent): [number, number] {
    const r = (ev.currentTarget as HTMLElement).getBoundingClientRect();
    const [x, y] = this.deck!.getViewports()[0]!.unproject([ev.clientX - r.left, ev.clientY - r.top]) as [
      number,
      number,
    ];
    return [Math.round(x * 100) / 100, Math.round(y * 100) / 100];
  }

  private down = (e: PointerEvent) => {
    if (this.tool === 'pan' || !this.deck) return;
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    this.current = [this.toImage(e)];
    this.redraw();
  };

  /** The brush's footprint under the pointer (a DOM circle: no extra draw pass). */
  private showBrush(e: PointerEvent): void {
    const el = this.renderRoot.querySelector('.brush') as HTMLElement | null;
    if (!el) return;
    el.hidden = this.tool === 'pan';
    if (el.hidden) return;
    const r = (e.currentTarget as HTMLElement).getBoundingClientRect();
    const d = Math.max(3, this.brushWidth * 2 ** this.view.zoom);
    Object.assign(el.style, {
      width: `${d}px`,
      height: `${d}px`,
      left: `${e.clientX - r.left - d / 2}px`,
      top: `${e.clientY - r.top - d / 2}px`,
      borderColor:
        this.tool === 'erase'
          ? '#fff'
          : `rgb(${(this.classes.find((c) => c.id === this.strokeClass)?.color ?? [255, 255, 255]).join(',')})`,
    });
  }

  private leave = () => {
    const el = this.renderRoot.querySelector('.brush') as HTMLElement | null;
    if (el) el.hidden = true;
  };

  private move = (e: PointerEvent) => {
    this.showBrush(e);
    if (!this.current) return;
    const p = this.toImage(e),
      last = this.current.at(-1)!;
    if (Math.hypot(p[0] - last[0], p[1] - last[1]) >= 0.5) {
      this.current.push(p);
      this.redraw();
    }
  };

  private up = () => {
    if (!this.current) return;
    const drawing: Drawing = {
      op: this.tool === 'erase' ? 'erase' : 'add',
      class: this.strokeClass,
      width: this.brushWidth,
      points: this.current,
    };
    this.current = null;
    this.client?.draw(drawing);
    this.status = this.saveState();
    this.redraw();
  };

  private key = (e: KeyboardEvent) => {
    // Typing into a panel's fields is not a shortcut.
    if (e.composedPath().some((el) => el instanceof HTMLInputElement || el instanceof HTMLSelectElement)) return;
    const k = e.key.toLowerCase();
    if ((e.ctrlKey || e.metaKey) && k === 'z') {
      if (e.shiftKey) this.client?.redo();
      else this.client?.undo();
      e.preventDefault();
      return;
    }
    if ((e.ctrlKey || e.metaKey) && k === 'y') {
      this.client?.redo();
      e.preventDefault();
      return;
    }
    if (k === 'f') {
      this.fitView();
      return;
    }
    if (!this.client) return; // view only: no tools to pick, no layers to toggle
    if (k === 'b') this.setTool('brush');
    else if (k === 'e') this.setTool('erase');
    else if (k === 'h') this.setTool('pan');
    else if (/^[1-9]$/.test(k) && this.classes[Number(k) - 1]) {
      this.strokeClass = this.classes[Number(k) - 1]!.id;
      this.setTool('brush');
    } else if (k === '[') this.brushWidth = Math.max(1, this.brushWidth - 1);
    else if (k === ']') this.brushWidth += 1;
    else if (k === 's') this.setLayers({ strokes: !this.layers.strokes });
    else if (k === 'p') this.setLayers({ prediction: !this.layers.prediction });
    else if (k === 'u') this.setLayers({ entropy: !this.layers.entropy });
  };

  /** Layers are rebuilt only when what they show changes: a new Viv or tile layer instance would refetch tiles and recompile shaders. */
  private readonly memo = new Map<string, { key: string; layer: unknown }>();
  private readonly memoUsed = new Set<string>();
  private cached<T>(name: string, key: string, make: () => T): T {
    this.memoUsed.add(name);
    const hit = this.memo.get(name);
    if (hit && hit.key === key) return hit.layer as T;
    const layer = make();
    this.memo.set(name, { key, layer });
    return layer;
  }

  private redraw(): void {
    if (!this.deck || !this.image) return;
    const image = this.image;
    const strokes: ShownStroke[] = this.client ? this.client.drawings : [];
    const pending = [...(this.client?.pending.values() ?? [])];
    const drawing = this.current
      ? [
          {
            op: this.tool === 'erase' ? ('erase' as const) : ('add' as const),
            class: this.strokeClass,
            width: this.brushWidth,
            points: this.current,
          },
        ]
      : [];
    const p = this.prediction;
    const l = this.layers;
    const shownStrokes = [...strokes, ...pending];
    const overlayOn = l.prediction || l.entropy;
    const overlay: OverlayStyle = {
      cells: l.prediction,
      cellOpacity: l.predictionOpacity,
      cellStyle: l.labelStyle,
      entropy: l.entropy,
      entropyOpacity: l.entropyOpacity,
      entropyLow: l.entropyLow,
    };
    this.memoUsed.clear();
    const layers = [
      this.cached('image', `${JSON.stringify(this.channels)}|${p?.tiles?.id}|${overlayOn}`, () =>
        imageLayer(image, this.channels, p?.tiles ?? null, overlayOn && !!p?.tiles),
      ),
      p
        ? this.cached(
            'prediction',
            `${p.record.model}|${p.tiles?.id}|${this.refresh.serial}|${JSON.stringify(overlay)}`,
            () =>
              predictionLayer(
                `prediction-${p.record.model}`,
                p.labels,
                p.image,
                overlay,
                this.refresh,
                overlayOn,
                p.tiles,
              ),
          )
        : null,
      this.cached(
        'strokes',
        `${this.client?.seq ?? 0}|${pending.length}|${l.strokes}|${JSON.stringify(this.classes)}`,
        () => strokeLayer('strokes', shownStrokes, this.classes, l.strokes),
      ),
      strokeLayer(`drawing-${this.current?.length ?? 0}`, drawing, this.classes),
    ];
    // deck finalizes a layer it no longer draws: one that comes back must be a new instance. (Hidden
    // layers stay, with `visible: false`, so that showing them again needs no refetch.)
    for (const name of this.memo.keys()) if (!this.memoUsed.has(name)) this.memo.delete(name);
    this.deck.setProps({ viewState: this.view as never, layers });
  }
}

if (!customElements.get('impartial-viewer')) customElements.define('impartial-viewer', ImpartialViewer);
