import type { PredictionRecord, Rect } from '@impartial/shared/protocol';
import { type LoadedZarr, sameTileGrid } from '../layers/image.js';
import { OverlayTiles } from '../layers/overlay-extension.js';
import type { Refresh } from '../layers/prediction.js';
import type { ShownPrediction } from '../layers/stack.js';
import { openZarr } from './sources.js';

/** Where predictions come from, and whether the image's pass may draw their overlay. */
export interface PredictionSource {
  readonly bridge: string;
  readonly token: string;
  readonly image: LoadedZarr | null;
  /** Draw the overlay in the image's pass when the tile grids match (off: its own pass). */
  readonly overlayInImagePass: boolean;
}

/**
 * The prediction shown and which of its tiles to fetch again, from the bridge's news of it (the
 * welcome's prediction, `tiles` messages, a model made current).
 */
export class PredictionState {
  shown: ShownPrediction | null = null;
  /** Which prediction tiles to fetch again (what the bridge's `tiles` messages announced). */
  refresh: Refresh = { serial: 0, rects: 'all' };
  private opening: { model: string; done: Promise<boolean> } | null = null;

  constructor(private readonly source: PredictionSource) {}

  /**
   * Takes news of a prediction: `tiles` (level-0 rectangles) changed, none: everything. False when
   * there is nothing new to show: not written yet (the next message retries), or superseded.
   */
  async update(record: PredictionRecord, tiles: readonly Rect[]): Promise<boolean> {
    if (this.shown?.record.model !== record.model) {
      // Tiles messages come in bursts: they all wait for one opening of the new prediction.
      if (this.opening?.model !== record.model) this.opening = { model: record.model, done: this.open(record) };
      const opened = await this.opening.done;
      if (this.opening?.model === record.model) this.opening = null;
      if (!opened || this.shown?.record.model !== record.model) return false;
    }
    this.refresh = { serial: this.refresh.serial + 1, rects: tiles.length ? tiles : 'all' };
    this.shown.record = record;
    return true;
  }

  /** Opens a prediction's image (classes and entropy) and instance labels, and shows them. */
  private async open(record: PredictionRecord): Promise<boolean> {
    const base = new URL(record.url, this.source.bridge).href;
    const token = this.source.token || null;
    try {
      const [image, labels] = await Promise.all([openZarr(base, token), openZarr(`${base}labels/instances/`, token)]);
      const { image: into, overlayInImagePass } = this.source;
      const inImagePass = overlayInImagePass && into && sameTileGrid(into, labels);
      this.shown = { record, image, labels, tiles: inImagePass ? new OverlayTiles() : null };
      return true;
    } catch {
      return false;
    }
  }
}
