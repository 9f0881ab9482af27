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
  const span = Math.max(1e-6, Math.LN2 - style.entropyLow);
  const entropyAlpha = style.entropyOpacity;
  const fillAlpha = (style.cellStyle === 'outline' ? 0 : style.cellStyle === 'fill' ? 1 : 0.43) * style.cellOpacity;
  const showEntropy = style.entropy && entropy !== null && entropyAlpha > 0;
  const showCells = style.cells && labels !== null && style.cellOpacity > 0;
  let lastId = -1,
    color: [number, number, number] = [0, 0, 0];
  for (let i = 0, n = width * height; i < n; i++) {
    let r = 0,
      g = 0,
      b = 0,
      a = 0;
    if (showEntropy) {
      const e = entropy[i]!;
      if (e >= style.entropyLow && e > 0) {
        const k = 3 * Math.min(255, Math.max(0, Math.round((255 * (e - style.entropyLow)) / span)));
        r = INFERNO[k]!;
        g = INFERNO[k + 1]!;
        b = INFERNO[k + 2]!;
        a = entropyAlpha;
      }
    }
    if (showCells) {
      const v = labels[i]!;
      if (v) {
        const x = i % width,
          y = (i - x) / width;
        const edge =
          style.cellStyle !== 'fill' &&
          ((x > 0 && labels[i - 1] !== v) ||
            (x < width - 1 && labels[i + 1] !== v) ||
            (y > 0 && labels[i - width] !== v) ||
            (y < height - 1 && labels[i + width] !== v));
        const ca = edge ? style.cellOpacity : fillAlpha;
        if (ca > 0) {
          // Cells over entropy, straight alpha: out = cell * ca + under * a * (1 - ca), / alpha.
          if (v !== lastId) {
            lastId = v;
            color = cellColor(v);
          }
          const [cr, cg, cb] = color;
          const out = ca + a * (1 - ca),
            under = a * (1 - ca);
          r = (cr * ca + r * under) / out;
          g = (cg * ca + g * under) / out;
          b = (cb * ca + b * under) / out;
          a = out;
        }
      }
    }
    if (a > 0) {
      const o = 4 * i;
      rgba[o] = r;
      rgba[o + 1] = g;
      rgba[o + 2] = b;
      rgba[o + 3] = Math.round(255 * a);
    }
  }
  return rgba;
}
