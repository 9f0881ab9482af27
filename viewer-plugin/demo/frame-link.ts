import {
  FRAME_PROTOCOL,
  type FrameToHost,
  type FrameView,
  HostToFrameSchema,
  sameFrameView,
} from '@impartial/shared/protocol';
import type { ImpartialViewer } from '../src/impartial-viewer.js';
import type { LoadedZarr } from '../src/layers/image.js';

/*
 * The viewer page in a host's frame (a Vitessce plugin view, a portal): it takes the view and the
 * channels' display from the host and tells the host where a person moved the view (see
 * shared/src/protocol/frame.ts). Only the parent window, at the origin the address names in
 * `host-origin` (default: this page's own), is listened to and written to.
 */

/** The image's level-0 scale (physical units per pixel, x and y) from its NGFF metadata; [1, 1] when it has none. */
export function levelZeroScale(image: LoadedZarr): [number, number] {
  const meta = image.metadata as {
    multiscales?: Array<{
      datasets?: Array<{ coordinateTransformations?: Array<{ type: string; scale?: number[] }> }>;
    }>;
  };
  const scale = meta.multiscales?.[0]?.datasets?.[0]?.coordinateTransformations?.find((t) => t.type === 'scale')?.scale;
  const [sy, sx] = scale ? scale.slice(-2) : [1, 1];
  return sx && sy && sx > 0 && sy > 0 ? [sx, sy] : [1, 1];
}

/** Links the page's viewer to the page that frames it; does nothing on a page of its own. */
export function linkToHost(viewer: ImpartialViewer): void {
  if (window.parent === window) return;
  document.body.classList.add('framed');
  const host = window.parent;
  const origin = new URLSearchParams(location.search).get('host-origin') ?? location.origin;
  const post = (m: FrameToHost) => host.postMessage(m, origin);
  /** The last view the host set: the view-change it causes is not news to the host. */
  let fromHost: FrameView | null = null;

  window.addEventListener('message', (e) => {
    if (e.source !== host || e.origin !== origin) return;
    const parsed = HostToFrameSchema.safeParse(e.data);
    if (!parsed.success) return;
    const m = parsed.data;
    if (m.type === 'view') {
      fromHost = m.view;
      viewer.setView(m.view);
    } else viewer.setChannels(m.channels);
  });
  viewer.addEventListener('view-change', (e) => {
    const v = e.detail;
    const view = { x: v.target[0], y: v.target[1], zoom: v.zoom };
    if (fromHost && sameFrameView(view, fromHost)) return;
    post({ protocol: FRAME_PROTOCOL, type: 'view', view });
  });
  viewer.addEventListener('channels-change', (e) => {
    const channels = e.detail.map((c) => ({ index: c.index, visible: c.visible, color: c.color, window: c.window }));
    post({ protocol: FRAME_PROTOCOL, type: 'channels', channels });
  });
  viewer.addEventListener('image-loaded', () => {
    const image = viewer.image;
    if (!image) return;
    const size = image.data[0]!.shape;
    const labels = image.data[0]!.labels as string[];
    const width = size[labels.indexOf('x')]!,
      height = size[labels.indexOf('y')]!;
    const channels = labels.includes('c') ? size[labels.indexOf('c')]! : 1;
    post({ protocol: FRAME_PROTOCOL, type: 'ready', image: { width, height, channels, scale: levelZeroScale(image) } });
  });
}
