import { ColorPaletteExtension } from '@vivjs/extensions';
import { MultiscaleImageLayer } from '@vivjs/layers';
import { getImageSize, type loadOmeZarr } from '@vivjs/loaders';
import { contrastWindows } from './contrast.js';
import { OverlayTileExtension, type OverlayTiles } from './overlay-extension.js';

export type LoadedZarr = Awaited<ReturnType<typeof loadOmeZarr>>;

export interface ChannelSetting {
  index: number;
  name: string;
  color: [number, number, number];
  window: [number, number];
  domain: [number, number];
  visible: boolean;
}

const hexToRgb = (h: string): [number, number, number] => {
  const n = parseInt(h.replace('#', ''), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
};

/** Channel settings from the OME-Zarr's omero metadata (first 6 active channels shown). */
export function channelSettings(image: LoadedZarr): ChannelSetting[] {
  const meta = image.metadata as {
    omero?: {
      channels?: Array<{
        label?: string;
        color?: string;
        active?: boolean;
        window?: { start: number; end: number; min: number; max: number };
      }>;
    };
  };
  const labels = image.data[0]!.labels as string[];
  const count = labels.includes('c') ? image.data[0]!.shape[labels.indexOf('c')]! : 1;
  return Array.from({ length: count }, (_, i) => {
    const c = meta.omero?.channels?.[i];
    const window: [number, number] = c?.window ? [c.window.start, c.window.end] : [0, 65535];
    return {
      index: i,
      name: c?.label ?? `C${i}`,
      color: c?.color ? hexToRgb(c.color) : [255, 255, 255],
      window,
      domain: c?.window ? [c.window.min, c.window.max] : window,
      visible: (c?.active ?? true) && i < 6,
    };
  });
}

// One instance each: a new extension object on every channel change would recompile the shaders.
const colorPalette = new ColorPaletteExtension();
const overlayTileExtension = new OverlayTileExtension();

/** Whether a prediction's pyramid tiles the image the same way (then its overlay can be drawn in the image's pass). */
export function sameTileGrid(image: LoadedZarr, other: LoadedZarr): boolean {
  const a = image.data,
    b = other.data;
  const sa = getImageSize(a[0]!),
    sb = getImageSize(b[0]!);
  // Signed integer images would need signed overlay textures: they keep the overlay's own pass.
  return (
    a.length === b.length &&
    a[0]!.tileSize === b[0]!.tileSize &&
    sa.width === sb.width &&
    sa.height === sb.height &&
    !/^Int/.test(a[0]!.dtype)
  );
}

/**
 * The multi-channel image as a Viv layer (at most 6 channels drawn at once), with the prediction
 * overlay's tiles drawn in when given.
 */
export function imageLayer(
  image: LoadedZarr,
  channels: readonly ChannelSetting[],
  overlayTiles: OverlayTiles | null = null,
  overlayEnabled = false,
) {
  const labels = image.data[0]!.labels as string[];
  const shown = channels.filter((c) => c.visible).slice(0, 6);
  return new MultiscaleImageLayer({
    id: 'image',
    loader: image.data,
    pickable: false,
    selections: shown.map((c) => (labels.includes('c') ? { c: c.index } : {})),
    colors: shown.map((c) => c.color),
    contrastLimits: shown.map((c) => c.window),
    channelsVisible: shown.map(() => true),
    // Additive colours, one per channel (Viv's default, named so the choice is visible here).
    extensions: [colorPalette, overlayTileExtension],
    overlayTiles,
    overlayEnabled,
  } as never);
}

/** Contrast windows for every channel from near-full-resolution pixels of the tissue (see `contrastWindows`). */
export async function autoContrast(image: LoadedZarr, channels: readonly ChannelSetting[]): Promise<ChannelSetting[]> {
  const windows = await contrastWindows(
    image,
    channels.map((c) => c.index),
  );
  return channels.map((c, k) => ({ ...c, ...windows[k]! }));
}
