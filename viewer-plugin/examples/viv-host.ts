/*
 * A plain Viv host: this page draws the image with its own deck.gl Deck and Viv MultiscaleImageLayer,
 * and adds ImPartial's layers and drawing tools after it. An app imports them from
 * `@impartial/viewer-plugin/host`; deck.gl, luma.gl and Viv stay the app's own single copies.
 * The bridge serves it at /t/TOKEN/viewer/examples/viv-host.html?image=ID.
 */
import { Deck, OrthographicView } from '@deck.gl/core';
import { MultiscaleImageLayer } from '@vivjs/layers';
import { getChannelStats, getImageSize, loadOmeZarr } from '@vivjs/loaders';
import { ImpartialOverlay, type Tool } from '../src/host/index.js';

type ViewState = { target: [number, number, number]; zoom: number };

const token = decodeURIComponent(/\/t\/([^/]+)\//.exec(location.pathname)?.[1] ?? '');
const imageId = new URLSearchParams(location.search).get('image') ?? '';
const status = document.getElementById('status')!;
const box = document.getElementById('canvas')!;
const say = (text: string) => {
  status.textContent = text;
};

// The host's own image: Viv's loader and layer, up to three channels in blue, green and red.
// Viv hands `fetchOptions` to zarrita's FetchStore as they are: its request options go under `overrides`.
const headers = token ? { Authorization: `Bearer ${token}` } : {};
const { data: loader } = await loadOmeZarr(new URL(`/zarr/images/${imageId}/`, location.origin).href, {
  type: 'multiscales',
  fetchOptions: { overrides: { headers } } as never,
});
const size = getImageSize(loader[0]!);
const dims = loader[0]!.labels as string[];
const count = dims.includes('c') ? loader[0]!.shape[dims.indexOf('c')]! : 1;
const selections = Array.from({ length: Math.min(3, count) }, (_, c) => (dims.includes('c') ? { c } : {}));
const contrastLimits = await Promise.all(
  selections.map(async (selection) => {
    const raster = await loader.at(-1)!.getRaster({ selection } as never);
    return getChannelStats(raster.data as never).contrastLimits as [number, number];
  }),
);
const imageLayer = new MultiscaleImageLayer({
  id: 'host-image',
  loader,
  selections,
  colors: (
    [
      [0, 0, 255],
      [0, 255, 0],
      [255, 0, 0],
    ] as Array<[number, number, number]>
  ).slice(0, selections.length),
  contrastLimits,
  channelsVisible: selections.map(() => true),
} as never);

/** The whole image in the canvas. */
function fit(): ViewState {
  const zoom = Math.log2(Math.min(box.clientWidth / size.width, box.clientHeight / size.height));
  return { target: [size.width / 2, size.height / 2, 0], zoom };
}

let viewState = fit();
let scenes = 0;
let scenesDrawn = 0;
let loaded = false;

const view = (tool: Tool) =>
  // While drawing, dragging draws rather than pans, and a double click closes an outline.
  new OrthographicView({ id: 'ortho', controller: tool === 'pan' ? true : { dragPan: false, doubleClickZoom: false } });

const deck = new Deck({
  parent: box,
  views: view('pan'),
  viewState: viewState as never,
  onViewStateChange: ({ viewState: v }: { viewState: unknown }) => {
    viewState = v as ViewState;
    overlay.zoom = viewState.zoom;
    render();
  },
  onAfterRender: () => {
    const layers = (deck.props.layers ?? []) as unknown as Array<{ isLoaded: boolean }>;
    loaded = layers.every((l) => l.isLoaded);
    scenesDrawn = scenes;
  },
} as never);

const overlay = new ImpartialOverlay({
  bridge: location.origin,
  token,
  image: imageId,
  name: 'viv-host',
  // deck.getViewports() asserts until deck has started (its WebGL device can take seconds).
  viewport: () => (deck.isInitialized ? deck.getViewports()[0] : undefined),
  imageSize: size,
});
overlay.zoom = viewState.zoom;
overlay.addEventListener('change', render);

/** The host's layers, then ImPartial's. */
function render(): void {
  scenes++;
  deck.setProps({ viewState: viewState as never, layers: [imageLayer, ...overlay.layers()] });
}

// The drawing tools take the pointer events of the element around the canvas.
box.addEventListener('pointerdown', overlay.pointer.down);
box.addEventListener('pointermove', overlay.pointer.move);
box.addEventListener('pointerup', overlay.pointer.up);
box.addEventListener('pointerleave', overlay.pointer.leave);
box.addEventListener('dblclick', overlay.pointer.doubleClick);
addEventListener('keydown', (e) => {
  if (!overlay.pointer.placingOutline) return;
  if (e.key === 'Enter') overlay.pointer.closeOutline();
  else if (e.key === 'Backspace') overlay.pointer.removeOutlineCorner();
  else if (e.key === 'Escape') overlay.pointer.cancel();
});

function pickTool(button: HTMLButtonElement): void {
  overlay.pointer.cancel();
  overlay.tool = button.dataset.tool as Tool;
  overlay.strokeClass = Number(button.dataset.class ?? overlay.strokeClass);
  box.dataset.tool = overlay.tool;
  for (const b of document.querySelectorAll('[data-tool]')) b.setAttribute('aria-pressed', String(b === button));
  deck.setProps({ views: view(overlay.tool) } as never);
}
for (const b of document.querySelectorAll<HTMLButtonElement>('[data-tool]')) b.onclick = () => pickTool(b);
document.getElementById('train')!.onclick = () => overlay.train({ seconds: 20 });
document.getElementById('predict')!.onclick = () => overlay.predict();
const toggle = (id: string, layer: 'prediction' | 'entropy') => {
  const input = document.getElementById(id) as HTMLInputElement;
  input.onchange = () => overlay.setLayers({ [layer]: input.checked });
};
toggle('show-prediction', 'prediction');
toggle('show-entropy', 'entropy');

// The bridge's news in the status line (the overlay's client re-dispatches every server message).
const client = overlay.client;
client.addEventListener('connection', (e) =>
  say((e as CustomEvent).detail.connected ? 'connected' : 'reconnecting...'),
);
client.addEventListener('entry', () => say(`${client.drawings.length} stroke(s) saved`));
client.addEventListener('train-progress', (e) => {
  const m = (e as CustomEvent).detail as { step: number; loss: number };
  say(`training: step ${m.step}, loss ${m.loss.toFixed(3)}`);
});
client.addEventListener('infer-progress', (e) => {
  const m = (e as CustomEvent).detail as { done: number; total: number };
  say(`predicting: ${m.done}/${m.total} tiles`);
});
client.addEventListener('error', (e) => say(`bridge: ${(e as CustomEvent).detail.message}`));
overlay.connect();
render();

/** For tests and the console: the deck, the overlay, and whether the screen shows all asked of it. */
Object.assign(window, {
  vivHost: {
    deck,
    overlay,
    setView(v: ViewState) {
      viewState = v;
      overlay.zoom = v.zoom;
      render();
    },
    get settled() {
      return loaded && scenesDrawn === scenes && !deck.needsRedraw();
    },
  },
});
