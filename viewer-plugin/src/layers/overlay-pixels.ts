/** How a prediction is shown: cells (instances) over the entropy heat map, each with its opacity. */
export type LabelStyle = 'fill' | 'outline' | 'both';
export interface OverlayStyle {
  cells: boolean;
  cellOpacity: number;
  cellStyle: LabelStyle;
  entropy: boolean;
  entropyOpacity: number;
  entropyLow: number;
}

/** A stable colour per cell id (golden-ratio hue walk). */
export function cellColor(id: number): [number, number, number] {
  const h = (id * 0.618034) % 1;
  const f = (o: number) => Math.round(255 * (0.55 + 0.45 * Math.sin(6.2832 * (h + o))));
  return [f(0), f(0.333), f(0.667)];
}

// Matplotlib's inferno at nine positions (0-255); the lookup table interpolates between them.
const INFERNO_STOPS: Array<[number, number, number, number]> = [
  [0, 0, 0, 4],
  [0.13, 31, 12, 72],
  [0.25, 85, 15, 109],
  [0.38, 136, 34, 106],
  [0.5, 186, 54, 85],
  [0.63, 227, 89, 51],
  [0.75, 249, 140, 10],
  [0.88, 249, 201, 50],
  [1, 252, 255, 164],
];
export const INFERNO: Uint8Array = (() => {
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const x = i / 255;
    const k = Math.max(
      1,
      INFERNO_STOPS.findIndex((s) => s[0] >= x),
    );
    const a = INFERNO_STOPS[k - 1]!,
      b = INFERNO_STOPS[k]!,
      t = (x - a[0]) / (b[0] - a[0]);
    for (let c = 0; c < 3; c++) lut[3 * i + c] = Math.round(a[c + 1]! + t * (b[c + 1]! - a[c + 1]!));
  }
  return lut;
})();

/**
 * One RGBA tile from a prediction's instance labels and entropy: cells (translucent fill, opaque
 * border where another label touches) composited over the entropy map (inferno from `entropyLow`
 * to ln 2; below it transparent). Drawn as one texture, so the overlay costs one pass, not two.
 */
export function overlayPixels(
  labels: ArrayLike<number> | null,
  entropy: ArrayLike<number> | null,
  width: number,
  height: number,
  style: OverlayStyle,
): Uint8ClampedArray<ArrayBuffer> {
  const rgba = new Uint8ClampedArray(width * height * 4);
  const entropyShown = style.entropy && entropy !== null && style.entropyOpacity > 0 ? entropy : null;
  if (entropyShown) paintEntropy(rgba, entropyShown, style);
  if (style.cells && labels !== null && style.cellOpacity > 0)
    paintCells(rgba, labels, entropyShown, width, height, style);
  return rgba;
}

/** Whether this entropy shows (at or above the low end; zero never does). */
const entropyShows = (e: number, style: OverlayStyle) => e >= style.entropyLow && e > 0;

/** The entropy map: inferno from `entropyLow` (dark) to ln 2 (bright), at the entropy opacity. */
function paintEntropy(rgba: Uint8ClampedArray, entropy: ArrayLike<number>, style: OverlayStyle): void {
  const span = Math.max(1e-6, Math.LN2 - style.entropyLow);
  const alpha = Math.round(255 * style.entropyOpacity);
  for (let i = 0, n = rgba.length / 4; i < n; i++) {
    const e = entropy[i]!;
    if (!entropyShows(e, style)) continue;
    const k = 3 * Math.min(255, Math.max(0, Math.round((255 * (e - style.entropyLow)) / span)));
    const o = 4 * i;
    rgba[o] = INFERNO[k]!;
    rgba[o + 1] = INFERNO[k + 1]!;
    rgba[o + 2] = INFERNO[k + 2]!;
    rgba[o + 3] = alpha;
  }
}

/** Whether pixel `i` of a labelled cell touches another label (or none) left, right, above or below. */
function onBorder(labels: ArrayLike<number>, i: number, width: number, height: number): boolean {
  const v = labels[i],
    x = i % width,
    y = (i - x) / width;
  return (
    (x > 0 && labels[i - 1] !== v) ||
    (x < width - 1 && labels[i + 1] !== v) ||
    (y > 0 && labels[i - width] !== v) ||
    (y < height - 1 && labels[i + width] !== v)
  );
}

/** Cells over what `paintEntropy` drew: straight alpha "over", out = cell * ca + under * a * (1 - ca), / alpha. */
function paintCells(
  rgba: Uint8ClampedArray,
  labels: ArrayLike<number>,
  entropy: ArrayLike<number> | null,
  width: number,
  height: number,
  style: OverlayStyle,
): void {
  const fillAlpha = (style.cellStyle === 'outline' ? 0 : style.cellStyle === 'fill' ? 1 : 0.43) * style.cellOpacity;
  let lastId = -1,
    color: [number, number, number] = [0, 0, 0];
  for (let i = 0, n = width * height; i < n; i++) {
    const v = labels[i]!;
    if (!v) continue;
    const ca = style.cellStyle !== 'fill' && onBorder(labels, i, width, height) ? style.cellOpacity : fillAlpha;
    if (!(ca > 0)) continue;
    if (v !== lastId) {
      lastId = v;
      color = cellColor(v);
    }
    const o = 4 * i;
    const a = entropy && entropyShows(entropy[i]!, style) ? style.entropyOpacity : 0;
    const out = ca + a * (1 - ca),
      under = a * (1 - ca);
    rgba[o] = (color[0] * ca + rgba[o]! * under) / out;
    rgba[o + 1] = (color[1] * ca + rgba[o + 1]! * under) / out;
    rgba[o + 2] = (color[2] * ca + rgba[o + 2]! * under) / out;
    rgba[o + 3] = Math.round(255 * out);
  }
}
