import { TileLayer } from '@deck.gl/geo-layers';
import { BitmapLayer } from '@deck.gl/layers';
import { getImageSize } from '@vivjs/loaders';
import type { LoadedZarr } from './image.js';

/** A stable colour per cell id (golden-ratio hue walk). */
function cellColor(id: number): [number, number, number] {
  const h = (id * 0.618034) % 1;
  const f = (o: number) => Math.round(255 * (0.55 + 0.45 * Math.sin(6.2832 * (h + o))));
  return [f(0), f(0.333), f(0.667)];
}

export type LabelStyle = 'fill' | 'outline' | 'both';

/** Instance labels as coloured cells (filled, outlined, or both), tile by tile; `version` changes refetch the tiles. */
export function labelsLayer(labels: LoadedZarr, opacity: number, version: number, style: LabelStyle = 'both') {
  const source = labels.data;
  const { width, height } = getImageSize(source[0]!);
  return new TileLayer({
    id: `labels-${version}`, tileSize: source[0]!.tileSize, extent: [0, 0, width, height], minZoom: -(source.length - 1), maxZoom: 0,
    refinementStrategy: 'no-overlap', opacity,
    getTileData: async ({ index: { x, y, z }, signal }: { index: { x: number; y: number; z: number }; signal?: AbortSignal }) => {
      try {
        const tile = await source[Math.round(-z)]!.getTile({ x, y, selection: {}, signal } as never) as { data: ArrayLike<number>; width: number; height: number };
        const { width: w, height: h, data } = tile;
        const rgba = new Uint8ClampedArray(w * h * 4);
        // Fill translucent, the cell's border (a pixel with another label beside it) opaque.
        const fillAlpha = style === 'outline' ? 0 : style === 'fill' ? 255 : 110;
        for (let i = 0; i < data.length; i++) {
          const v = data[i]!;
          if (!v) continue;
          const x = i % w, y = (i - x) / w;
          const edge = style !== 'fill' && ((x > 0 && data[i - 1] !== v) || (x < w - 1 && data[i + 1] !== v) || (y > 0 && data[i - w] !== v) || (y < h - 1 && data[i + w] !== v));
          const alpha = edge ? 255 : fillAlpha;
          if (!alpha) continue;
          const [r, g, b] = cellColor(v);
          rgba[4 * i] = r; rgba[4 * i + 1] = g; rgba[4 * i + 2] = b; rgba[4 * i + 3] = alpha;
        }
        return new ImageData(rgba, tile.width, tile.height);
      } catch {
        return null;
      }
    },
    renderSubLayers: (p: { id: string; data: ImageData | null; tile: { bbox: { left: number; top: number }; index: { z: number } } }) => {
      if (!p.data) return null;
      const { left, top } = p.tile.bbox, s = 2 ** Math.round(-p.tile.index.z);
      return new BitmapLayer({ id: p.id, image: p.data, bounds: [left, top + p.data.height * s, left + p.data.width * s, top], textureParameters: { minFilter: 'nearest', magFilter: 'nearest' } } as never);
    },
  } as never);
}
