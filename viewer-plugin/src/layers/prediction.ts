import type { UpdateParameters } from '@deck.gl/core';
import { TileLayer } from '@deck.gl/geo-layers';
import { BitmapLayer } from '@deck.gl/layers';
import type { Rect } from '@impartial/shared/protocol';
import { getImageSize } from '@vivjs/loaders';
import type { LoadedZarr } from './image.js';
import type { OverlayTiles } from './overlay-extension.js';
import { type OverlayStyle, overlayPixels } from './overlay-pixels.js';

/** Tiles of the prediction that changed since the last refresh (level-0 pixels), or all of them. */
export interface Refresh {
  serial: number;
  rects: readonly Rect[] | 'all';
}

interface TileData {
  labels: ArrayLike<number> | null;
  entropy: ArrayLike<number> | null;
  width: number;
  height: number;
  shown?: { key: string; image: ImageData | null };
}
interface TileHeader {
  bbox: { left: number; top: number; right: number; bottom: number };
  index: { x: number; y: number; z: number };
  content: TileData | null;
  setNeedsReload(): void;
}
// `overlay` is a prop so that a new style re-renders the tiles (their sub-layers are cached otherwise).
type Props = { refresh: Refresh; overlay: OverlayStyle };

const meets = (t: TileHeader['bbox'], r: Rect) =>
  t.left < r.x + r.width && r.x < t.right && t.top < r.y + r.height && r.y < t.bottom;

/**
 * A prediction (instance labels and entropy) as one tiled overlay. A new `refresh` reloads only the
 * tiles that meet its rectangles, showing the old pixels until the new ones arrive; a new `overlay`
 * style recolours the tiles already fetched.
 */
class PredictionTileLayer extends TileLayer<TileData, Props> {
  static override layerName = 'PredictionTileLayer';

  override updateState(params: UpdateParameters<this>): void {
    const tileset = this.state.tileset as unknown as { tiles: TileHeader[] } | null;
    const refresh = (this.props as unknown as Props).refresh,
      before = (params.oldProps as Partial<Props>).refresh;
    if (tileset && before && refresh.serial !== before.serial) {
      for (const tile of tileset.tiles)
        if (refresh.rects === 'all' || refresh.rects.some((r) => meets(tile.bbox, r))) tile.setNeedsReload();
    }
    super.updateState(params);
  }
}

/** What a prediction layer reads of each tile: the instance labels, the entropy, or both. */
export type PredictionParts = 'cells' | 'entropy' | 'both';

async function fetchTile(
  labels: LoadedZarr,
  prediction: LoadedZarr,
  parts: PredictionParts,
  at: { x: number; y: number; level: number; signal?: AbortSignal },
): Promise<TileData | null> {
  const { x, y, level, signal } = at;
  const get = (source: LoadedZarr, selection: object) =>
    source.data[level]!.getTile({ x, y, selection, signal } as never) as Promise<{
      data: ArrayLike<number>;
      width: number;
      height: number;
    }>;
  // A part not wanted, or not there (a tile past the edge, an aborted read), is null.
  const read = (wanted: boolean, source: LoadedZarr, selection: object) =>
    wanted ? get(source, selection).catch(() => null) : Promise.resolve(null);
  const [l, e] = await Promise.all([
    read(parts !== 'entropy', labels, {}),
    read(parts !== 'cells', prediction, { c: 1 }),
  ]);
  const some = l ?? e;
  if (!some) return null;
  return { labels: l?.data ?? null, entropy: e?.data ?? null, width: some.width, height: some.height };
}

type SubLayerProps = { id: string; data: TileData | null; tile: TileHeader };

/**
 * One tile of the overlay, coloured once per style: handed to the image layer (`into`), or drawn
 * here as a bitmap over the image.
 */
function overlayTile(p: SubLayerProps, overlay: OverlayStyle, styleKey: string, into: OverlayTiles | null) {
  const d = p.data;
  if (!d) {
    into?.set(p.tile.index.x, p.tile.index.y, p.tile.index.z, null);
    return null;
  }
  if (d.shown?.key !== styleKey) {
    const rgba = overlayPixels(d.labels, d.entropy, d.width, d.height, overlay);
    d.shown = {
      key: styleKey,
      image: rgba.some((v, i) => (i & 3) === 3 && v > 0) ? new ImageData(rgba, d.width, d.height) : null,
    };
  }
  const { x, y, z } = p.tile.index;
  if (into) {
    into.set(x, y, z, d.shown.image);
    return null;
  }
  if (!d.shown.image) return null; // nothing to draw here
  const { left, top } = p.tile.bbox,
    s = 2 ** Math.round(-p.tile.index.z);
  return new BitmapLayer({
    id: p.id,
    image: d.shown.image,
    bounds: [left, top + d.height * s, left + d.width * s, top],
    textureParameters: { minFilter: 'nearest', magFilter: 'nearest' },
  } as never);
}

export interface PredictionLayerProps {
  id: string;
  /** The prediction's instance labels (its `labels/instances` image). */
  labels: LoadedZarr;
  /** The prediction's image: channel 1 is the entropy. */
  prediction: LoadedZarr;
  overlay: OverlayStyle;
  refresh: Refresh;
  visible: boolean;
  /** The image layer that draws the coloured tiles in its own pass; none: drawn here. */
  into?: OverlayTiles | null;
  /** What to read of each tile (default both): a layer that shows only cells reads no entropy. */
  parts?: PredictionParts;
}

/**
 * The prediction overlay. With `into`, its coloured tiles go to the image layer, which draws them in
 * its own pass (same tile grid); without, they are drawn here as bitmaps over the image.
 */
export function predictionLayer(p: PredictionLayerProps) {
  const { id, labels, prediction, overlay, refresh, visible, into = null, parts = 'both' } = p;
  const source = labels.data;
  const { width, height } = getImageSize(source[0]!);
  const styleKey = JSON.stringify(overlay);
  return new PredictionTileLayer({
    id,
    visible,
    refresh,
    overlay,
    tileSize: source[0]!.tileSize,
    extent: [0, 0, width, height],
    minZoom: -(source.length - 1),
    maxZoom: 0,
    refinementStrategy: 'no-overlap',
    getTileData: ({
      index: { x, y, z },
      signal,
    }: {
      index: { x: number; y: number; z: number };
      signal?: AbortSignal;
    }) => fetchTile(labels, prediction, parts, { x, y, level: Math.round(-z), signal }).catch(() => null),
    // Evicted from the tile cache: its coloured copy goes too (a whole slide would not fit).
    onTileUnload: (tile: TileHeader) => into?.set(tile.index.x, tile.index.y, tile.index.z, null),
    renderSubLayers: (sub: SubLayerProps) => overlayTile(sub, overlay, styleKey, into),
  } as never);
}
