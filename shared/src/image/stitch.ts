/*
 * Instances of an image cut block by block, with one id per cell across block borders (as
 * distributed Cellpose stitches Dask blocks). Each block is cut over itself plus a margin; where
 * the margin lies on blocks already committed, a cell of the new block that overlaps a committed
 * cell takes its id, so a cell crossing a border keeps one id. When a cell of the new block joins
 * two committed ids (a cell at a corner of blocks that did not see each other), the ids are merged
 * and the blocks holding the loser are rewritten at the end.
 *
 * The net's values near a block's edges differ from those its neighbour computed there with more
 * context, and a cut of those values used to split about 1% of the cells crossing a border. So a
 * block is cut by the values its committed neighbours were cut by where they lie (cutBlock):
 * for the 'components' cut the block's cells then agree with theirs pixel for pixel, and linking
 * every cell to each committed cell it shares foreground with gives the connected components of the
 * whole map, exactly as one cut of it would.
 */

import { DEFAULT_INSTANCE_OPTIONS, foregroundMask, type InstanceOptions, probabilityToInstances } from './instances.js';
import { connectedComponents, dilateIntoBackground } from './morphology.js';

export interface BlockRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A block's cells with global ids, and what stitching it changed elsewhere. */
export interface StitchedBlock {
  /** Global ids over the block itself (`core`), row-major. */
  labels: Uint32Array;
  /** Distinct cells of the block. */
  cells: number;
}

/** One block to relabel at the end: its rectangle and, per id it holds, the id that id became (0: none). */
export interface BlockRewrite {
  rect: BlockRect;
  ids: Map<number, number>;
}

/** Pixels of a committed cell that a new cell must cover (of the smaller of the two) to be the same cell. */
const SAME_CELL_FRACTION = 0.5;
/**
 * Pixels along ext's cut edges (not the image's) left out of the matching: there the block's cut
 * sees cells truncated (pieces dropped as too small, grown into by a neighbour) and would link
 * committed cells that are not the same.
 */
const GUARD = 16;

/** A committed block: its rectangle, the ids it holds and (components cuts) their foreground pixels in it. */
interface CommittedBlock {
  rect: BlockRect;
  ids: Set<number>;
  area: Map<number, number> | null;
}

/** Local cells matched to global ids, and for cells split between committed cells, each pixel's id. */
interface Matched {
  globalOf: Map<number, number>;
  owner: Uint32Array | null;
}

const key = (r: BlockRect) => `${r.x},${r.y}`;

/** Side of the coarse grid that indexes committed blocks. */
const GRID = 256;

function gridCells(r: BlockRect): string[] {
  const cells: string[] = [];
  for (let gy = Math.floor(r.y / GRID); gy <= Math.floor((r.y + r.height - 1) / GRID); gy++)
    for (let gx = Math.floor(r.x / GRID); gx <= Math.floor((r.x + r.width - 1) / GRID); gx++) cells.push(`${gx},${gy}`);
  return cells;
}

function intersect(a: BlockRect, b: BlockRect): BlockRect | null {
  const x = Math.max(a.x, b.x),
    y = Math.max(a.y, b.y);
  const width = Math.min(a.x + a.width, b.x + b.width) - x,
    height = Math.min(a.y + a.height, b.y + b.height) - y;
  return width > 0 && height > 0 ? { x, y, width, height } : null;
}

export class InstanceStitcher {
  private nextId = 1;
  /** Union-find over global ids: a merged id points towards the id it became. */
  private readonly parent = new Map<number, number>();
  /** The blocks committed so far and the global ids each holds. */
  private readonly blocks = new Map<string, CommittedBlock>();
  /** Cells smaller than this (foreground pixels over all blocks) are dropped at the end ('components' cuts). */
  private minSize = 0;
  /** The blocks meeting each cell of a coarse grid, so finding a block's neighbours stays cheap on any slide. */
  private readonly grid = new Map<string, Set<string>>();

  /** The id `id` became after merges. */
  find(id: number): number {
    let root = id;
    for (let p = this.parent.get(root); p !== undefined; p = this.parent.get(root)) root = p;
    for (let i = id; i !== root; ) {
      const next = this.parent.get(i)!;
      this.parent.set(i, root);
      i = next;
    }
    return root;
  }

  /**
   * Gives a block's cells global ids, matching them by overlap with the committed cells.
   * `local`: the block's cut over `ext` (the block plus its margin, clipped to the image), ids
   * local to it, row-major over ext. `committed`: the global labels already written over ext (0
   * where there is no cell or nothing is written yet). `core`: the block itself, inside ext.
   * A block may be committed again (a preview replaced by the full pass): its old cut is replaced,
   * only its neighbours count as committed.
   */
  stitch(
    ext: BlockRect,
    local: Int32Array,
    committed: Uint32Array,
    core: BlockRect,
    image: { width: number; height: number },
  ): StitchedBlock {
    return this.stitchBy(ext, local, committed, core, image, null, 'overlap');
  }

  /**
   * Cuts a block and stitches it: `own` is the net's values over ext, `written` the values and
   * labels already written there.
   */
  cutBlock(
    ext: BlockRect,
    core: BlockRect,
    image: { width: number; height: number },
    own: Float32Array,
    written: { probability: Float32Array; labels: Uint32Array },
    options: Partial<InstanceOptions> = {},
  ): StitchedBlock {
    const n = ext.width * ext.height;
    if (own.length !== n || written.probability.length !== n)
      throw new RangeError(
        `block probabilities hold ${own.length} and ${written.probability.length} pixels, ext has ${n}`,
      );
    const o = { ...DEFAULT_INSTANCE_OPTIONS, ...options };
    this.minSize = o.minSize;
    const done = this.committedMask(ext, key(core));
    if (o.separation !== 'components') {
      // The flood needs the values beyond the committed blocks too; cells are matched by overlap.
      const p = blockProbability(ext, core, own, written.probability, done, true);
      const local = probabilityToInstances({ width: ext.width, height: ext.height, data: p }, o).data;
      const matched = { done, foreground: foregroundMask(p, o.threshold) };
      return this.stitchBy(ext, local, written.labels, core, image, matched, 'overlap');
    }
    // The 'components' cut agrees with the committed cuts where they lie: cells link by shared foreground.
    const foreground = foregroundMask(blockProbability(ext, core, own, written.probability, done, false), o.threshold);
    const local = blockComponents(foreground, ext, core, image, done, written.labels, o);
    return this.stitchBy(ext, local, written.labels, core, image, { done, foreground }, 'foreground');
  }

  /**
   * stitch, with cells linked by shared foreground or matched by overlap. `cut` (from cutBlock): the
   * committed part of ext, already worked out, and the cut's foreground, which also gives the cells' areas.
   */
  private stitchBy(
    ext: BlockRect,
    local: Int32Array,
    committed: Uint32Array,
    core: BlockRect,
    image: { width: number; height: number },
    cut: { done: Uint8Array; foreground: Uint8Array } | null,
    by: 'foreground' | 'overlap',
  ): StitchedBlock {
    const n = ext.width * ext.height;
    if (local.length !== n || committed.length !== n)
      throw new RangeError(`block labels hold ${local.length} and ${committed.length} pixels, ext has ${n}`);
    const doneMask = cut?.done ?? this.committedMask(ext, key(core));
    const matched =
      by === 'foreground' && cut
        ? this.linkComponents(ext, core, local, committed, doneMask, cut.foreground)
        : this.matchCells(ext, local, committed, core, image, doneMask);
    return this.commit(ext, local, core, matched, cut?.foreground);
  }

  /**
   * The 'components' link: a local cell on the block takes the id of every committed cell it shares
   * a foreground pixel with (the cuts agree there), and those ids become one. Cells off the block
   * link nothing: the committed blocks decided them, and ext may show them truncated.
   */
  private linkComponents(
    ext: BlockRect,
    core: BlockRect,
    local: Int32Array,
    committed: Uint32Array,
    doneMask: Uint8Array,
    foreground: Uint8Array,
  ): Matched {
    const onBlock = new Set<number>();
    for (let y = core.y - ext.y; y < core.y - ext.y + core.height; y++)
      for (let i = y * ext.width + core.x - ext.x, end = i + core.width; i < end; i++) onBlock.add(local[i]!);
    const links = new Map<number, Set<number>>();
    for (let i = 0; i < local.length; i++) {
      const l = local[i]!;
      if (!l || !doneMask[i] || !foreground[i] || !committed[i] || !onBlock.has(l)) continue;
      let ids = links.get(l);
      if (!ids) {
        ids = new Set();
        links.set(l, ids);
      }
      ids.add(this.find(committed[i]!));
    }
    const globalOf = new Map<number, number>();
    for (const [l, ids] of links) {
      const [first, ...rest] = ids;
      for (const c of rest) this.merge(c, first!);
      globalOf.set(l, first!);
    }
    return { globalOf, owner: null };
  }

  /**
   * Matching by overlap, for cuts that differ from their neighbours' (the seeded floods, or values
   * not taken from the committed blocks): a local cell is a committed cell it covers enough of.
   */
  private matchCells(
    ext: BlockRect,
    local: Int32Array,
    committed: Uint32Array,
    core: BlockRect,
    image: { width: number; height: number },
    doneMask: Uint8Array,
  ): Matched {
    const n = local.length;
    guardCutEdges(doneMask, ext, core, image);
    // Areas and overlaps inside the committed part of ext, and which committed cells touch there.
    const localArea = new Map<number, number>(),
      committedArea = new Map<number, number>();
    const overlap = new Map<number, Map<number, number>>();
    const touching = new Set<string>();
    const w = ext.width;
    for (let i = 0; i < n; i++) {
      if (!doneMask[i]) continue;
      const l = local[i]!,
        c = committed[i]! ? this.find(committed[i]!) : 0;
      if (l) localArea.set(l, (localArea.get(l) ?? 0) + 1);
      if (!c) continue;
      committedArea.set(c, (committedArea.get(c) ?? 0) + 1);
      for (const j of [i + 1, i + w]) {
        if ((j === i + 1 && (i + 1) % w === 0) || j >= n || !doneMask[j] || !committed[j]) continue;
        const d = this.find(committed[j]!);
        if (d !== c) touching.add(c < d ? `${c},${d}` : `${d},${c}`);
      }
      if (l) {
        let row = overlap.get(l);
        if (!row) {
          row = new Map();
          overlap.set(l, row);
        }
        row.set(c, (row.get(c) ?? 0) + 1);
      }
    }
    const globalOf = new Map<number, number>();
    /** Cells of this block that span committed cells which touch: split between them, committed cut wins. */
    const splits = new Map<number, number[]>();
    for (const [l, row] of overlap) {
      const same = [...row]
        .filter(([c, o]) => o >= SAME_CELL_FRACTION * Math.min(localArea.get(l)!, committedArea.get(c)!))
        .sort((a, b) => b[1] - a[1])
        .map(([c]) => c);
      if (!same.length) continue;
      globalOf.set(l, same[0]!);
      if (same.length === 1) continue;
      const touch = same.some((c, k) => same.slice(k + 1).some((d) => touching.has(c < d ? `${c},${d}` : `${d},${c}`)));
      // Neighbouring committed cells this cell joins are separate cells there: keep them apart.
      // Cells that do not meet there (arms of one cell around a block corner) are one cell.
      if (touch) splits.set(l, same);
      else for (const c of same.slice(1)) this.merge(c, same[0]!);
    }
    const owner = splits.size ? splitOwners(local, committed, doneMask, ext, splits, (c) => this.find(c)) : null;
    return { globalOf, owner };
  }

  /**
   * Writes the block's core with global ids (new ones for cells no committed cell matched) and
   * records it, with each cell's foreground pixels there when the cut says which those are.
   */
  private commit(
    ext: BlockRect,
    local: Int32Array,
    core: BlockRect,
    { globalOf, owner }: Matched,
    foreground?: Uint8Array,
  ): StitchedBlock {
    // Several local cells may have taken one committed id; their roots are read after all merges.
    const labels = new Uint32Array(core.width * core.height);
    const ids = new Set<number>();
    const area = foreground ? new Map<number, number>() : null;
    const ox = core.x - ext.x,
      oy = core.y - ext.y;
    for (let y = 0; y < core.height; y++) {
      for (let x = 0; x < core.width; x++) {
        const e = (oy + y) * ext.width + ox + x;
        const l = local[e]!;
        if (!l) continue;
        let g = owner?.[e] || globalOf.get(l);
        if (g === undefined) {
          g = this.nextId++;
          globalOf.set(l, g);
        }
        g = this.find(g);
        labels[y * core.width + x] = g;
        ids.add(g);
        if (area && foreground![e]) area.set(g, (area.get(g) ?? 0) + 1);
      }
    }
    if (!this.blocks.has(key(core))) for (const cell of gridCells(core)) this.gridCell(cell).add(key(core));
    this.blocks.set(key(core), { rect: { ...core }, ids, area });
    return { labels, cells: ids.size };
  }

  /** Distinct cells over every committed block, after merges, without those too small to keep. */
  get cells(): number {
    const all = new Set<number>();
    for (const b of this.blocks.values()) for (const id of b.ids) all.add(this.find(id));
    for (const id of this.smallCells()) all.delete(id);
    return all.size;
  }

  /**
   * Cells (roots) with fewer foreground pixels than minSize over all blocks: pieces each block kept
   * because they went on beyond it, which one cut of the whole map drops. None unless every block
   * recorded its areas (a 'components' cut).
   */
  private smallCells(): Set<number> {
    const total = new Map<number, number>();
    for (const b of this.blocks.values()) {
      if (!b.area) return new Set();
      for (const [id, n] of b.area) {
        const root = this.find(id);
        total.set(root, (total.get(root) ?? 0) + n);
      }
    }
    const small = new Set<number>();
    for (const b of this.blocks.values())
      for (const id of b.ids) if ((total.get(this.find(id)) ?? 0) < this.minSize) small.add(this.find(id));
    return small;
  }

  /**
   * The committed blocks holding ids that were merged into others since committed, or that belong
   * to cells too small to keep, with the new ids (0: no cell).
   */
  rewrites(): BlockRewrite[] {
    const small = this.smallCells();
    const out: BlockRewrite[] = [];
    for (const b of this.blocks.values()) {
      const ids = new Map<number, number>();
      for (const id of b.ids) {
        const root = this.find(id);
        const next = small.has(root) ? 0 : root;
        if (next !== id) ids.set(id, next);
      }
      if (ids.size) out.push({ rect: b.rect, ids });
    }
    return out;
  }

  /** Marks a rewrite as done: the block now holds the merged ids, and no longer the dropped ones. */
  rewritten(r: BlockRewrite): void {
    const b = this.blocks.get(key(r.rect));
    if (!b) return;
    const next = (id: number) => r.ids.get(id) ?? this.find(id);
    b.ids = new Set([...b.ids].map(next).filter((id) => id !== 0));
    if (b.area) {
      const area = new Map<number, number>();
      for (const [id, n] of b.area) if (next(id)) area.set(next(id), (area.get(next(id)) ?? 0) + n);
      b.area = area;
    }
  }

  private merge(from: number, into: number): void {
    const a = this.find(from),
      b = this.find(into);
    if (a !== b) this.parent.set(a, b);
  }

  private gridCell(cell: string): Set<string> {
    let blocks = this.grid.get(cell);
    if (!blocks) {
      blocks = new Set();
      this.grid.set(cell, blocks);
    }
    return blocks;
  }

  /** 1 where ext lies on a committed block other than `self`. */
  private committedMask(ext: BlockRect, self: string): Uint8Array {
    const mask = new Uint8Array(ext.width * ext.height);
    const near = new Set<string>();
    for (const cell of gridCells(ext)) for (const k of this.grid.get(cell) ?? []) near.add(k);
    near.delete(self);
    for (const k of near) {
      const r = intersect(this.blocks.get(k)!.rect, ext);
      if (!r) continue;
      for (let y = r.y; y < r.y + r.height; y++) {
        const row = (y - ext.y) * ext.width + r.x - ext.x;
        mask.fill(1, row, row + r.width);
      }
    }
    return mask;
  }
}

/**
 * The probability to cut a block by, over ext: where other committed blocks lie (`done`), the values
 * they were cut by (as written); over the block itself, its own. On the margin over blocks not done
 * yet, its own values (`beyond`), or none: no cells joined through pixels a later block decides.
 */
function blockProbability(
  ext: BlockRect,
  core: BlockRect,
  own: Float32Array,
  committed: Float32Array,
  done: Uint8Array,
  beyond: boolean,
): Float32Array {
  const out = beyond ? Float32Array.from(own) : new Float32Array(own.length);
  for (let y = core.y - ext.y; y < core.y - ext.y + core.height; y++) {
    const row = y * ext.width + core.x - ext.x;
    out.set(own.subarray(row, row + core.width), row);
  }
  for (let i = 0; i < out.length; i++) if (done[i]) out[i] = committed[i]!;
  return out;
}

/**
 * The 'components' cut of a block (probabilityToInstances' steps), except that a small region is
 * kept where it may go on beyond what this block decides (it touches ext's cut edges or pixels not
 * decided yet) or where a committed block kept it: its whole size is not known here.
 */
function blockComponents(
  foreground: Uint8Array,
  ext: BlockRect,
  core: BlockRect,
  image: { width: number; height: number },
  done: Uint8Array,
  committed: Uint32Array,
  o: InstanceOptions,
): Int32Array {
  const { width: w, height: h } = ext;
  let { labels, count } = connectedComponents(foreground, w, h);
  const cx = core.x - ext.x,
    cy = core.y - ext.y;
  const decided = (x: number, y: number) =>
    done[y * w + x] === 1 || (x >= cx && x < cx + core.width && y >= cy && y < cy + core.height);
  const size = new Int32Array(count + 1),
    open = new Uint8Array(count + 1);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = y * w + x,
        l = labels[i]!;
      if (!l) continue;
      size[l]!++;
      if (open[l]) continue;
      const cutEdge =
        (x === 0 && ext.x > 0) ||
        (y === 0 && ext.y > 0) ||
        (x === w - 1 && ext.x + w < image.width) ||
        (y === h - 1 && ext.y + h < image.height);
      const undecided =
        (x > 0 && !decided(x - 1, y)) ||
        (x < w - 1 && !decided(x + 1, y)) ||
        (y > 0 && !decided(x, y - 1)) ||
        (y < h - 1 && !decided(x, y + 1));
      if (cutEdge || undecided || (done[i] && committed[i])) open[l] = 1;
    }
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (l && size[l]! < o.minSize && !open[l]) labels[i] = 0;
  }
  for (let k = 0; k < o.dilation; k++) labels = dilateIntoBackground(labels, w, h);
  return labels;
}

/**
 * For cells to split: each pixel of the cell goes to the committed cell nearest through the cell
 * (a breadth-first flood from where it overlaps each of them in the committed part).
 */
function splitOwners(
  local: Int32Array,
  committed: Uint32Array,
  doneMask: Uint8Array,
  ext: BlockRect,
  splits: ReadonlyMap<number, number[]>,
  find: (id: number) => number,
): Uint32Array {
  const owner = new Uint32Array(local.length);
  const queue = new Int32Array(local.length);
  let tail = 0;
  for (let i = 0; i < local.length; i++) {
    const among = splits.get(local[i]!);
    if (!among || !doneMask[i] || !committed[i]) continue;
    const c = find(committed[i]!);
    if (among.includes(c)) {
      owner[i] = c;
      queue[tail++] = i;
    }
  }
  const w = ext.width;
  for (let head = 0; head < tail; head++) {
    const i = queue[head]!,
      x = i % w;
    for (const j of [x > 0 ? i - 1 : -1, x < w - 1 ? i + 1 : -1, i - w, i + w]) {
      if (j < 0 || j >= local.length || owner[j] || local[j] !== local[i]) continue;
      owner[j] = owner[i]!;
      queue[tail++] = j;
    }
  }
  return owner;
}

/** Clears the mask along ext's edges inside the image: GUARD pixels, at most half the margin there. */
function guardCutEdges(mask: Uint8Array, ext: BlockRect, core: BlockRect, image: { width: number; height: number }) {
  const { width: w, height: h } = ext;
  const guard = (margin: number, inside: boolean) => (inside ? Math.min(GUARD, Math.floor(margin / 2)) : 0);
  const left = guard(core.x - ext.x, ext.x > 0),
    right = guard(ext.x + w - core.x - core.width, ext.x + w < image.width);
  const top = guard(core.y - ext.y, ext.y > 0),
    bottom = guard(ext.y + h - core.y - core.height, ext.y + h < image.height);
  for (let y = 0; y < h; y++) {
    if (y < top || y >= h - bottom) {
      mask.fill(0, y * w, (y + 1) * w);
      continue;
    }
    mask.fill(0, y * w, y * w + Math.min(left, w));
    mask.fill(0, y * w + Math.max(0, w - right), (y + 1) * w);
  }
}

/** Applies a rewrite's id changes to a block's labels in place. */
export function relabelBlock(labels: Uint32Array, ids: ReadonlyMap<number, number>): void {
  for (let i = 0; i < labels.length; i++) {
    const next = ids.get(labels[i]!);
    if (next !== undefined) labels[i] = next;
  }
}
