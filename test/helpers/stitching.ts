// Block-wise instance cuts stitched with InstanceStitcher, against one cut over the whole map:
// used by the stitching unit test and `npm run bench -- scale`.
import {
  type BlockRect,
  DEFAULT_INSTANCE_OPTIONS,
  type InstanceOptions,
  InstanceStitcher,
  matchInstances,
  probabilityToInstances,
  Random,
  relabelBlock,
  type SyntheticSlideOptions,
  syntheticSlideLabels,
} from '@impartial/shared';

/** A probability map made from ground truth: cells high, their rims lower, borders between touching cells low. */
export function probabilityFromTruth(truth: Int32Array, width: number, height: number): Float32Array {
  const p = new Float32Array(truth.length).fill(0.05);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = y * width + x,
        t = truth[i]!;
      if (!t) continue;
      const border =
        (x > 0 && truth[i - 1] !== t) ||
        (x < width - 1 && truth[i + 1] !== t) ||
        (y > 0 && truth[i - width] !== t) ||
        (y < height - 1 && truth[i + width] !== t);
      // A border with another cell is low; a border with background is still cell.
      const touching =
        border &&
        [i - 1, i + 1, i - width, i + width].some((j) => j >= 0 && j < truth.length && truth[j] && truth[j] !== t);
      p[i] = touching ? 0.2 : border ? 0.6 : 0.95;
    }
  return p;
}

export function cropPlane<T extends Float32Array | Uint32Array | Int32Array>(
  data: T,
  width: number,
  r: BlockRect,
  Ctor: new (n: number) => T,
): T {
  const out = new Ctor(r.width * r.height);
  for (let y = 0; y < r.height; y++)
    out.set(data.subarray((r.y + y) * width + r.x, (r.y + y) * width + r.x + r.width) as never, y * r.width);
  return out;
}

function paste<T extends Uint32Array | Float32Array>(target: T, width: number, r: BlockRect, block: T): void {
  for (let y = 0; y < r.height; y++)
    target.set(block.subarray(y * r.width, (y + 1) * r.width) as never, (r.y + y) * width + r.x);
}

export function blocksOf(width: number, height: number, block: number): BlockRect[] {
  const out: BlockRect[] = [];
  for (let y = 0; y < height; y += block)
    for (let x = 0; x < width; x += block)
      out.push({ x, y, width: Math.min(block, width - x), height: Math.min(block, height - y) });
  return out;
}

/** The values a block's pass gives over its ext (the block plus its margin). */
export type BlockView = (ext: BlockRect, core: BlockRect) => Float32Array;

/**
 * A net's view of each block: the map's values over the block itself, and off on the margin, the
 * more so towards ext's edges, where a net sees less context: a shift of up to `amplitude` for the
 * whole block (dimmer or brighter) plus up to half that per pixel (fresh draws per block).
 */
export function edgeNoise(probability: Float32Array, width: number, amplitude: number, seed: number): BlockView {
  const rng = new Random(seed);
  return (ext, core) => {
    const own = cropPlane(probability, width, ext, Float32Array);
    const shift = rng.uniform(-amplitude, amplitude);
    const margin = Math.max(core.x - ext.x, ext.x + ext.width - core.x - core.width, core.y - ext.y, 1);
    for (let y = 0; y < ext.height; y++)
      for (let x = 0; x < ext.width; x++) {
        const gx = ext.x + x,
          gy = ext.y + y;
        const outside = Math.max(
          core.x - gx,
          gx - (core.x + core.width - 1),
          core.y - gy,
          gy - (core.y + core.height - 1),
        );
        if (outside <= 0) continue;
        const i = y * ext.width + x;
        const off = (shift + rng.uniform(-amplitude / 2, amplitude / 2)) * Math.min(1, outside / margin);
        own[i] = Math.min(1, Math.max(0, own[i]! + off));
      }
    return own;
  };
}

/**
 * Cuts `probability` block by block in `order` (blocks plus `margin` of context) and stitches them as
 * inference does: each block's own values (`view`, the map itself by default) over its ext, written
 * over its core.
 */
export function stitchedCut(
  probability: Float32Array,
  width: number,
  height: number,
  order: BlockRect[],
  margin: number,
  options: Partial<InstanceOptions> = {},
  view: BlockView = (ext) => cropPlane(probability, width, ext, Float32Array),
): { labels: Uint32Array; cells: number; rewrites: number } {
  const labels = new Uint32Array(width * height);
  const written = new Float32Array(width * height);
  const stitcher = new InstanceStitcher();
  for (const core of order) {
    const x0 = Math.max(0, core.x - margin),
      y0 = Math.max(0, core.y - margin);
    const ext = {
      x: x0,
      y: y0,
      width: Math.min(width, core.x + core.width + margin) - x0,
      height: Math.min(height, core.y + core.height + margin) - y0,
    };
    const own = view(ext, core);
    const before = {
      probability: cropPlane(written, width, ext, Float32Array),
      labels: cropPlane(labels, width, ext, Uint32Array),
    };
    paste(labels, width, core, stitcher.cutBlock(ext, core, { width, height }, own, before, options).labels);
    const inCore = { ...core, x: core.x - ext.x, y: core.y - ext.y };
    paste(written, width, core, cropPlane(own, ext.width, inCore, Float32Array));
  }
  const rewrites = stitcher.rewrites();
  for (const r of rewrites) {
    const block = cropPlane(labels, width, r.rect, Uint32Array);
    relabelBlock(block, r.ids);
    paste(labels, width, r.rect, block);
    stitcher.rewritten(r);
  }
  return { labels, cells: stitcher.cells, rewrites: rewrites.length };
}

/**
 * Ground-truth cells crossing a block border whose two sides carry different predicted ids (each
 * side's most common id), i.e. cells cut at the border. With `foreground` (the pixels the model
 * calls cell), only those count: the 1-px ring a cut grows cells by into the background goes to
 * either neighbour at a tie, and a sliver of a cell over a border can lie all in that ring.
 */
export function cutCells(
  truth: Int32Array,
  predicted: Uint32Array,
  width: number,
  height: number,
  block: number,
  foreground?: Uint8Array,
) {
  const sides = new Map<number, Map<string, Map<number, number>>>();
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = y * width + x,
        t = truth[i]!;
      if (!t || (foreground && !foreground[i])) continue;
      const side = `${Math.floor(x / block)},${Math.floor(y / block)}`;
      let cell = sides.get(t);
      if (!cell) {
        cell = new Map();
        sides.set(t, cell);
      }
      let counts = cell.get(side);
      if (!counts) {
        counts = new Map();
        cell.set(side, counts);
      }
      counts.set(predicted[i]!, (counts.get(predicted[i]!) ?? 0) + 1);
    }
  const cut = new Set<number>();
  let crossing = 0;
  for (const [t, cell] of sides) {
    if (cell.size < 2) continue;
    crossing++;
    const majority = [...cell.values()].map((c) => [...c].sort((a, b) => b[1] - a[1])[0]![0]);
    if (majority.every((id) => id !== 0) && new Set(majority).size > 1) cut.add(t);
  }
  return { crossing, cut };
}

/**
 * How two labellings differ on the pixels of `mask`, ids aside: cells of `a` spread over several ids
 * of `b` (split) and ids of `b` spread over several cells of `a` (merged), and pixels labelled in
 * only one of them.
 */
export function partitionDifference(a: ArrayLike<number>, b: ArrayLike<number>, mask: Uint8Array) {
  const ab = new Map<number, Set<number>>(),
    ba = new Map<number, Set<number>>();
  let onlyOne = 0;
  const add = (m: Map<number, Set<number>>, k: number, v: number) => {
    let s = m.get(k);
    if (!s) {
      s = new Set();
      m.set(k, s);
    }
    s.add(v);
  };
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const x = a[i]!,
      y = b[i]!;
    if (!x || !y) {
      if (x !== y) onlyOne++;
      continue;
    }
    add(ab, x, y);
    add(ba, y, x);
  }
  const several = (m: Map<number, Set<number>>) => [...m.values()].filter((s) => s.size > 1).length;
  return { split: several(ab), merged: several(ba), onlyOne };
}

/** A synthetic slide's truth, a probability map from it, one whole cut and the stitched cut, compared. */
export function compareStitching(
  slide: SyntheticSlideOptions,
  block: number,
  margin: number,
  order: (blocks: BlockRect[]) => BlockRect[],
  options: Partial<InstanceOptions> = {},
  edgeAmplitude = 0,
) {
  const { width, height } = slide;
  const truth = syntheticSlideLabels(slide, { x: 0, y: 0, width, height });
  const probability = probabilityFromTruth(truth, width, height);
  const truthImage = { width, height, data: truth };
  const whole = probabilityToInstances({ width, height, data: probability }, options);
  const view = edgeAmplitude ? edgeNoise(probability, width, edgeAmplitude, slide.seed) : undefined;
  const blocks = order(blocksOf(width, height, block));
  const stitched = stitchedCut(probability, width, height, blocks, margin, options, view);
  const threshold = options.threshold ?? DEFAULT_INSTANCE_OPTIONS.threshold;
  const foreground = Uint8Array.from(probability, (v) => (v > threshold ? 1 : 0));
  const wholeCut = cutCells(truth, Uint32Array.from(whole.data), width, height, block, foreground);
  const stitchedCutCells = cutCells(truth, stitched.labels, width, height, block, foreground);
  return {
    truthCells: new Set(truth).size - 1,
    crossingBorders: wholeCut.crossing,
    whole: { cells: whole.count, scores: matchInstances(truthImage, whole), cutAtBorders: wholeCut.cut.size },
    stitched: {
      cells: stitched.cells,
      scores: matchInstances(truthImage, { width, height, data: new Int32Array(stitched.labels.buffer) }),
      cutAtBorders: stitchedCutCells.cut.size,
      /** Cut by the stitching: cut here, whole in the one cut. */
      cutByStitching: [...stitchedCutCells.cut].filter((t) => !wholeCut.cut.has(t)).length,
      partition: partitionDifference(Uint32Array.from(whole.data), stitched.labels, foreground),
    },
  };
}
