import type { PredictionRecord } from '@impartial/shared';
import type { Db } from '../db.js';
import { now } from './time.js';

interface PredictionRow {
  image: string;
  model: string;
  status: 'partial' | 'complete';
  cells: number | null;
  mean_entropy: number | null;
  created: string;
}

const predictionOf = (r: PredictionRow): PredictionRecord => ({
  image: r.image,
  model: r.model,
  status: r.status,
  url: `/zarr/predictions/${r.image}/${r.model}/`,
  cells: r.cells,
  meanEntropy: r.mean_entropy,
  created: r.created,
});

/** Predictions, one per image and model version: partial while tiles come in, then complete. */
export class PredictionTable {
  constructor(private readonly db: Db) {}

  put(
    image: string,
    model: string,
    fields: { status: 'partial' | 'complete'; cells?: number | null; meanEntropy?: number | null },
  ): PredictionRecord {
    this.db
      .prepare(`INSERT INTO predictions (image, model, status, cells, mean_entropy, created) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (image, model) DO UPDATE SET status = excluded.status, cells = excluded.cells,
      mean_entropy = excluded.mean_entropy`)
      .run(image, model, fields.status, fields.cells ?? null, fields.meanEntropy ?? null, now());
    return this.find(image, model)!;
  }

  find(image: string, model: string): PredictionRecord | null {
    const r = this.db.prepare('SELECT * FROM predictions WHERE image = ? AND model = ?').get(image, model);
    return r ? predictionOf(r as PredictionRow) : null;
  }

  /** The newest prediction of an image (by the project's current model when there is one). */
  latest(image: string): PredictionRecord | null {
    const r = this.db
      .prepare(`SELECT p.* FROM predictions p JOIN images i ON i.id = p.image JOIN projects j ON j.id = i.project
      WHERE p.image = ? ORDER BY (p.model = j.current_model) DESC, p.created DESC LIMIT 1`)
      .get(image) as PredictionRow | undefined;
    return r ? predictionOf(r) : null;
  }

  list(image: string): PredictionRecord[] {
    const rows = this.db.prepare('SELECT * FROM predictions WHERE image = ? ORDER BY created').all(image);
    return (rows as PredictionRow[]).map(predictionOf);
  }
}
