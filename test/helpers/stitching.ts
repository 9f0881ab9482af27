// Block-wise instance cuts stitched with InstanceStitcher, against one cut over the whole map:
// used by the stitching unit test and `npm run bench -- scale`.
import {
  type BlockRect,
  type InstanceOptions,
  InstanceStitcher,
  matchInstances,
  probabilityToInstances,
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

function paste(target: Uint32Array, width: number, r: BlockRect, block: Uint32Array): void {
  for (let y = 0; y < r.height; y++)
    target.set(block.subarray(y * r.width, (y + 1) * r.width), (r.y + y) * width + r.x);
}

export function blocksOf(width: number, height: number, block: number): BlockRect[] {
  const out: BlockRect[] = [];
  for (let y = 0; y < height; y += block)
    for (let x = 0; x < width; x += block)
      out.push({ x, y, width: Math.min(block, width - x), height: Math.min(block, height - y) });
  return out;
}

/** Cuts `probability` block by block in `order` (blocks plus `margin` of context) and stitches them. */
export function stitchedCut(
  probability: Float32Array,
  width: number,
  height: number,
  order: BlockRect[],
  margin: number,
  options: Partial<InstanceOptions> = {},
): { labels: Uint32Array; cells: number; rewrites: number } {
  const labels = new Uint32Array(width * height);
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
    const local = probabilityToInstances(
      { width: ext.width, height: ext.height, data: cropPlane(probability, width, ext, Float32Array) },
      options,
    ).data;
    const committed = cropPlane(labels, width, ext, Uint32Array);
    paste(labels, width, core, stitcher.stitch(ext, local, committed, core, { width, height }).labels);
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
 * side's most common id), i.e. cells cut at the border.
 */
export function cutCells(truth: Int32Array, predicted: Uint32Array, width: number, height: number, block: number) {
  const sides = new Map<number, Map<string, Map<number, number>>>();
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = y * width + x,
        t = truth[i]!;
      if (!t) continue;
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

/** A synthetic slide's truth, a probability map from it, one whole cut and the stitched cut, compared. */
export function compareStitching(
  slide: SyntheticSlideOptions,
  block: number,
  margin: number,
  order: (blocks: BlockRect[]) => BlockRect[],
  options: Partial<InstanceOptions> = {},
) {
  const { width, height } = slide;
  const truth = syntheticSlideLabels(slide, { x: 0, y: 0, width, height });
  const probability = probabilityFromTruth(truth, width, height);
  const truthImage = { width, height, data: truth };
  const whole = probabilityToInstances({ width, height, data: probability }, options);
  const stitched = stitchedCut(probability, width, height, order(blocksOf(width, height, block)), margin, options);
  const wholeCut = cutCells(truth, Uint32Array.from(whole.data), width, height, block);
  const stitchedCutCells = cutCells(truth, stitched.labels, width, height, block);
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
    },
  };
}
