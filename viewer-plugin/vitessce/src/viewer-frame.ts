import {
  FRAME_PROTOCOL,
  type FrameChannel,
  type FrameToHost,
  FrameToHostSchema,
  type FrameView,
  type HostToFrame,
  sameFrameView,
} from '@impartial/shared/protocol';
import { channelsOf, type Scale, type SpatialView, toPhysical, toPixels, withChannels } from './coordinates.js';

/** The viewer page's image, as its `ready` message tells it. */
export type FramedImage = Extract<FrameToHost, { type: 'ready' }>['image'];

/**
 * The host's side of the link with the viewer page in a frame (shared/src/protocol/frame.ts): the
 * spatial view and the channels' display go in, the view converted to level-0 pixels; moves made
 * in the frame come out in the host's physical units, channel changes as the host's image layers.
 * What only echoes what the other side sent is not sent back. Until the frame is ready, the latest
 * of each waits.
 */
export class ViewerFrame {
  private image: FramedImage | null = null;
  private view: SpatialView | null = null;
  private layers: unknown = null;
  /** The last view the frame sent. */
  private fromFrame: FrameView | null = null;

  /** The channels the frame last sent, as sent: Vitessce's answer to them is not sent back. */
  private fromFrameChannels = '';

  constructor(
    private readonly frame: () => Window | null,
    private readonly origin: string,
    private readonly moved: (view: SpatialView) => void,
    private readonly recoloured: (layers: unknown) => void = () => {},
  ) {}

  /** Starts listening to the frame; returns the stop. */
  listen(): () => void {
    const handle = (e: MessageEvent) => this.receive(e);
    window.addEventListener('message', handle);
    return () => window.removeEventListener('message', handle);
  }

  get ready(): FramedImage | null {
    return this.image;
  }

  private get scale(): Scale {
    return this.image?.scale ?? [1, 1];
  }

  /** The host's spatial view changed; null values (not set yet) send nothing. */
  hostView(view: Partial<SpatialView>): void {
    const { spatialZoom, spatialTargetX, spatialTargetY } = view;
    if (![spatialZoom, spatialTargetX, spatialTargetY].every((v) => typeof v === 'number' && Number.isFinite(v)))
      return;
    this.view = view as SpatialView;
    this.sendView();
  }

  /** The host's image layers changed (Vitessce's `spatialImageLayer`). */
  hostLayers(layers: unknown): void {
    this.layers = layers;
    this.sendChannels();
  }

  private sendView(): void {
    if (!this.image || !this.view) return;
    const view = toPixels(this.view, this.scale);
    if (this.fromFrame && sameFrameView(view, this.fromFrame)) return;
    this.post({ protocol: FRAME_PROTOCOL, type: 'view', view });
  }

  private sendChannels(): void {
    if (!this.image) return;
    const channels = channelsOf(this.layers, this.image.channels);
    if (!channels.length || this.isFrameEcho(channels)) return;
    this.post({ protocol: FRAME_PROTOCOL, type: 'channels', channels });
  }

  /** Whether the channels say, for each channel the frame sent, what it sent. */
  private isFrameEcho(channels: FrameChannel[]): boolean {
    if (!this.fromFrameChannels) return false;
    const sent = JSON.parse(this.fromFrameChannels) as FrameChannel[];
    return sent.every((c) => {
      const now = channels.find((x) => x.index === c.index);
      return !now || JSON.stringify({ ...now, ...c }) === JSON.stringify(now);
    });
  }

  private post(m: HostToFrame): void {
    this.frame()?.postMessage(m, this.origin);
  }

  private receive(e: MessageEvent): void {
    if (e.source !== this.frame() || e.origin !== this.origin) return;
    const parsed = FrameToHostSchema.safeParse(e.data);
    if (!parsed.success) return;
    const m = parsed.data;
    if (m.type === 'ready') {
      // The host's view wins at the start: the frame's own first fit is not news.
      this.image = m.image;
      this.fromFrame = null;
      this.sendView();
      this.sendChannels();
    } else if (!this.image) return;
    else if (m.type === 'view') {
      this.fromFrame = m.view;
      this.moved(toPhysical(m.view, this.scale));
    } else {
      this.fromFrameChannels = JSON.stringify(m.channels);
      const layers = withChannels(this.layers, m.channels);
      if (layers !== this.layers) this.recoloured(layers);
    }
  }
}
