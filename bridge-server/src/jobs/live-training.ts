import {
  type BatchSource,
  type DrawEntry,
  type ImpartialModel,
  middleOf,
  type PatchBatch,
  PatchSampler,
  type Rect,
  SCRIBBLE_BACKGROUND,
  SCRIBBLE_FOREGROUND,
} from '@impartial/shared';
import type { DataFiles } from '../store/files.js';
import { cropsOf, type TrainCrop } from './crops.js';
import { type InferTaskSpec, predictWith, type TileResult } from './infer-task.js';
import { type ImageRef, modelChannels } from './region.js';

/*
 * Live mode (ilastik's live update, QuPath's live prediction): one training that keeps running
 * while people draw. The bridge posts every change of an image's strokes and every move of the
 * view to the training's thread; between steps the thread takes them in (new strokes join the
 * training data, no restart) and predicts the view again from the weights as they are now.
 */

/** What a live training predicts again: at most the middle this-by-this square of the view. */
export const LIVE_VIEW_SIDE = 1024;
/** A live training stops by itself after this long (seconds) when its request names no budget. */
export const LIVE_SECONDS = 1800;
/** Steps trained with new strokes before the view is predicted again with them. */
const STEPS_WITH_NEW_STROKES = 3;
/** Never two refreshes closer than this (ms): the training needs the thread too. */
const MIN_REFRESH_GAP_MS = 1000;

/** An image a live training learns from: its strokes when the training started, and their newest log entry. */
export type LiveImage = ImageRef & { drawings: DrawEntry[]; seq?: number };

/** What the bridge tells a live training's thread. */
export type LiveMessage =
  | { type: 'strokes'; image: string; seq: number; drawings: DrawEntry[] }
  | { type: 'view'; image: string; viewport: Rect }
  | { type: 'finish' };

/** What a live training's thread tells the bridge: a tile of a refresh on disk, and a refresh complete. */
export type LiveEvent =
  | { type: 'live-tile'; image: string; model: string; tile: TileResult; step: number; strokes: number }
  | {
      type: 'live-refreshed';
      image: string;
      model: string;
      cells: number;
      meanEntropy: number;
      step: number;
      strokes: number;
    };

/** The view a live training predicts again and again, and how often. */
export interface LiveSpec {
  image: ImageRef & { name: string; levels: number };
  viewport: Rect;
  refreshSeconds: number;
  /** The prediction's folder (of the image by the model version the training will save). */
  outDir: string;
  tile: number;
}

/** The middle of a view that a live refresh predicts, clipped to the image. */
export function liveViewport(view: Rect, image: { width: number; height: number }): Rect {
  const x = Math.min(Math.max(0, view.x), image.width - 1),
    y = Math.min(Math.max(0, view.y), image.height - 1);
  const clipped = {
    x,
    y,
    width: Math.max(1, Math.min(view.width, image.width - x)),
    height: Math.max(1, Math.min(view.height, image.height - y)),
  };
  return middleOf(clipped, LIVE_VIEW_SIDE);
}

/** Lets the thread's event loop turn, so that what the bridge posted meanwhile is delivered. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** What the bridge has told a live training's thread and the thread has not taken in yet. */
export class LiveInbox {
  private strokes = new Map<string, { seq: number; drawings: DrawEntry[] }>();
  private view: Rect | null = null;
  finished = false;
  private wake: (() => void) | null = null;

  constructor(private readonly viewed: string) {}

  take(m: LiveMessage): void {
    if (m.type === 'finish') this.finished = true;
    else if (m.type === 'view') {
      if (m.image === this.viewed) this.view = m.viewport;
    } else if ((this.strokes.get(m.image)?.seq ?? -1) < m.seq) {
      // Posted in the order their reads ended: an older state arriving late changes nothing.
      this.strokes.set(m.image, { seq: m.seq, drawings: m.drawings });
    }
    this.wake?.();
  }

  takeStrokes(): Map<string, { seq: number; drawings: DrawEntry[] }> {
    const taken = this.strokes;
    this.strokes = new Map();
    return taken;
  }

  takeView(): Rect | null {
    const v = this.view;
    this.view = null;
    return v;
  }

  /** Resolves at the next message, or after `ms`. */
  next(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }
}

/** A live training's data: each image's crops and strokes; an image's crops are cut again when its strokes change. */
export class LiveData implements BatchSource {
  private readonly crops = new Map<string, TrainCrop[]>();
  private readonly pixels = new Map<string, Map<string, Float32Array>>();
  /** Per image, the newest log entry that its strokes here include. */
  readonly seq = new Map<string, number>();
  /** Null until some image has a crop (a large slide has crops only around its strokes). */
  private sampler: PatchSampler | null = null;
  private rebuilds = 0;

  private constructor(
    private readonly images: ReadonlyMap<string, LiveImage>,
    private readonly files: DataFiles,
    private readonly sampling: { seed: number; patch: number },
  ) {}

  static async create(
    images: readonly LiveImage[],
    files: DataFiles,
    sampling: { seed: number; patch: number },
  ): Promise<LiveData> {
    const data = new LiveData(new Map(images.map((i) => [i.id, i])), files, sampling);
    for (const i of images) await data.cut(i.id, i.seq ?? 0, i.drawings);
    data.rebuild();
    return data;
  }

  private async cut(id: string, seq: number, drawings: readonly DrawEntry[]): Promise<void> {
    const image = this.images.get(id)!;
    const pixels = this.pixels.get(id) ?? new Map<string, Float32Array>();
    this.pixels.set(id, pixels);
    this.crops.set(id, await cropsOf(image, drawings, this.files, pixels));
    this.seq.set(id, seq);
  }

  private rebuild(): void {
    const all = this.allCrops();
    // Every stroke of a large slide undone leaves no crop: training goes on with the data it had.
    if (all.length === 0) return;
    // A new seed each time: the same one would replay the first patches of the stream.
    this.sampler = new PatchSampler(
      all.map((c) => c.image),
      all.map((c) => c.scribbles),
      { seed: this.sampling.seed + 7919 * this.rebuilds++, patch: this.sampling.patch },
    );
  }

  /** Takes in an image's strokes as they are now; false when they change nothing here (another image, older). */
  async update(changes: ReadonlyMap<string, { seq: number; drawings: DrawEntry[] }>): Promise<boolean> {
    let changed = false;
    for (const [id, { seq, drawings }] of changes) {
      if (!this.images.has(id) || seq <= (this.seq.get(id) ?? -1)) continue;
      await this.cut(id, seq, drawings);
      changed = true;
    }
    if (changed) this.rebuild();
    return changed;
  }

  /** Every image's crops as they are now. */
  allCrops(): TrainCrop[] {
    return [...this.crops.values()].flat();
  }

  /** Both classes drawn somewhere: training needs a cell stroke and a background stroke. */
  get trainable(): boolean {
    let cell = false,
      background = false;
    for (const c of this.allCrops()) {
      cell ||= c.scribbles.data.includes(SCRIBBLE_FOREGROUND);
      background ||= c.scribbles.data.includes(SCRIBBLE_BACKGROUND);
    }
    return cell && background;
  }

  get channels(): number {
    return modelChannels([...this.images.values()][0]!);
  }

  get hasScribbles(): boolean {
    return this.sampler?.hasScribbles ?? false;
  }

  batch(size: number): PatchBatch {
    if (!this.sampler) throw new Error('no strokes to train on yet');
    return this.sampler.batch(size);
  }
}

/**
 * Runs between a live training's steps: takes in strokes and view moves, and predicts the view
 * again every `refreshSeconds`, or a few steps after new strokes joined (sooner for a person waiting).
 */
export class LiveSession {
  private readonly finishing = new AbortController();
  readonly signal: AbortSignal;
  private viewport: Rect;
  private lastRefresh = performance.now();
  /** The step at which strokes joined that no refresh has used yet. */
  private joinedAt: number | null = null;
  private created = false;

  constructor(
    private readonly spec: LiveSpec,
    private readonly data: LiveData,
    private readonly inbox: LiveInbox,
    private readonly files: DataFiles,
    private readonly post: (e: LiveEvent) => void,
    cancel: AbortSignal,
  ) {
    this.signal = AbortSignal.any([cancel, this.finishing.signal]);
    this.viewport = liveViewport(spec.viewport, spec.image);
  }

  /** Waits for a cell stroke and a background stroke; false when stopped first or `seconds` passed. */
  async waitForStrokes(seconds: number, log: (line: string) => void): Promise<boolean> {
    const deadline = performance.now() + seconds * 1000;
    if (!this.data.trainable) log('live: waiting for a cell stroke and a background stroke');
    while (!this.data.trainable) {
      if (this.signal.aborted || performance.now() >= deadline) return false;
      await this.inbox.next(Math.min(1000, deadline - performance.now()));
      this.takeMessages();
      await this.data.update(this.inbox.takeStrokes());
    }
    return true;
  }

  private takeMessages(): void {
    if (this.inbox.finished) this.finishing.abort();
    const view = this.inbox.takeView();
    if (view) {
      this.viewport = liveViewport(view, this.spec.image);
      // A new place to look at: shown soon, as for new strokes.
      this.joinedAt ??= Number.NEGATIVE_INFINITY;
    }
  }

  /** The train loop's afterStep. */
  async afterStep(step: number, model: ImpartialModel): Promise<void> {
    await turn();
    this.takeMessages();
    if (await this.data.update(this.inbox.takeStrokes())) this.joinedAt ??= step;
    if (this.signal.aborted) return;
    const since = performance.now() - this.lastRefresh;
    const fresh = this.joinedAt !== null && step - this.joinedAt >= STEPS_WITH_NEW_STROKES;
    if (since >= this.spec.refreshSeconds * 1000 || (fresh && since >= MIN_REFRESH_GAP_MS)) {
      await this.refresh(step, model);
    }
  }

  /** Predicts the view with the weights as they are after `step` steps. */
  private async refresh(step: number, model: ImpartialModel): Promise<void> {
    this.joinedAt = null;
    const { image } = this.spec;
    const live = { step, strokes: this.data.seq.get(image.id) ?? 0 };
    const spec: InferTaskSpec = {
      kind: 'infer',
      image,
      modelDir: '',
      outDir: this.spec.outDir,
      viewport: this.viewport,
      viewportOnly: true,
      tile: this.spec.tile,
      passes: 1,
      ...(this.created ? { keep: true } : {}),
    };
    const modelId = model.lineage.id;
    const r = await predictWith(
      spec,
      model,
      {
        signal: this.signal,
        log: () => {},
        tile: (tile) => this.post({ type: 'live-tile', image: image.id, model: modelId, tile, ...live }),
      },
      this.files,
    );
    this.created = true;
    if (!r.cancelled) {
      const { cells, meanEntropy } = r;
      this.post({ type: 'live-refreshed', image: image.id, model: modelId, cells, meanEntropy, ...live });
    }
    this.lastRefresh = performance.now();
  }
}
