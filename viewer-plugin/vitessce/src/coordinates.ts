import type { FrameChannel, FrameView } from '@impartial/shared/protocol';

/*
 * Vitessce's spatial view is in the image's physical units (its NGFF scale makes the layer's model
 * matrix); the viewer works in level-0 pixels. Zoom is deck.gl's log2 of screen pixels per unit in
 * both, so a pixel of `sx` units is `log2(sx)` zoom steps apart.
 */

/** Vitessce's coordination values of a spatial view. */
export interface SpatialView {
  spatialZoom: number;
  spatialTargetX: number;
  spatialTargetY: number;
}

/** The NGFF level-0 scale: physical units per pixel along x and y. */
export type Scale = readonly [number, number];

export function toPixels(v: SpatialView, scale: Scale): FrameView {
  const [sx, sy] = scale;
  return { x: v.spatialTargetX / sx, y: v.spatialTargetY / sy, zoom: v.spatialZoom + Math.log2(sx) };
}

export function toPhysical(v: FrameView, scale: Scale): SpatialView {
  const [sx, sy] = scale;
  return { spatialTargetX: v.x * sx, spatialTargetY: v.y * sy, spatialZoom: v.zoom - Math.log2(sx) };
}

/** One channel of a layer of Vitessce's `spatialImageLayer` (the legacy spatial view and layer controller). */
interface ImageLayerChannel {
  selection?: { c?: number };
  visible?: boolean;
  color?: number[];
  slider?: number[];
}

const rgb = (c: number[] | undefined): [number, number, number] | undefined =>
  c && c.length >= 3
    ? ([c[0]!, c[1]!, c[2]!].map((v) => Math.max(0, Math.min(255, Math.round(v)))) as never)
    : undefined;

/**
 * The channels' display from Vitessce's first image layer, by channel index; channels the layer
 * does not show (Vitessce shows at most a few) are hidden.
 */
export function channelsOf(layers: unknown, channelCount: number): FrameChannel[] {
  const first = Array.isArray(layers) ? (layers[0] as { channels?: ImageLayerChannel[]; visible?: boolean }) : null;
  if (!first?.channels) return [];
  const layerVisible = first.visible !== false;
  const shown = new Map<number, FrameChannel>();
  for (const ch of first.channels) {
    const index = ch.selection?.c ?? 0;
    if (index < 0 || index >= channelCount) continue;
    const color = rgb(ch.color);
    const window =
      ch.slider && ch.slider.length >= 2 && ch.slider.every(Number.isFinite)
        ? ([ch.slider[0]!, ch.slider[1]!] as [number, number])
        : undefined;
    shown.set(index, {
      index,
      visible: layerVisible && ch.visible !== false,
      ...(color ? { color } : {}),
      ...(window ? { window } : {}),
    });
  }
  return Array.from({ length: channelCount }, (_, index) => shown.get(index) ?? { index, visible: false });
}

/**
 * Vitessce's image layers with the first layer's channels changed as the frame says (by channel
 * index); channels the layer does not hold stay out. The same array when nothing changes.
 */
export function withChannels(layers: unknown, changes: readonly FrameChannel[]): unknown {
  if (!Array.isArray(layers) || !layers.length) return layers;
  const [first, ...rest] = layers as Array<{ channels?: ImageLayerChannel[] }>;
  if (!first?.channels) return layers;
  let changed = false;
  const channels = first.channels.map((ch) => {
    const d = changes.find((c) => c.index === (ch.selection?.c ?? 0));
    if (!d) return ch;
    const next = {
      ...ch,
      ...(d.visible !== undefined ? { visible: d.visible } : {}),
      ...(d.color ? { color: [...d.color] } : {}),
      ...(d.window ? { slider: [...d.window] } : {}),
    };
    if (JSON.stringify(next) !== JSON.stringify(ch)) changed = true;
    return next;
  });
  return changed ? [{ ...first, channels }, ...rest] : layers;
}
