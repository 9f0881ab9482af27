import type { PredictionRecord } from '@impartial/shared';
import type { Db } from '../database/open.js';
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

  async put(
    image: string,
    model: string,
    fields: { status: 'partial' | 'complete'; cells?: number | null; meanEntropy?: number | null },
  ): Promise<PredictionRecord> {
    await this.db
      .insertInto('predictions')
      .values({
        image,
        model,
        status: fields.status,
        cells: fields.cells ?? null,
        mean_entropy: fields.meanEntropy ?? null,
        created: now(),
      })
      .onConflict((oc) =>
        oc.columns(['image', 'model']).doUpdateSet((eb) => ({
          status: eb.ref('excluded.status'),
          cells: eb.ref('excluded.cells'),
          mean_entropy: eb.ref('excluded.mean_entropy'),
        })),
      )
      .execute();
    return (await this.find(image, model))!;
  }

  async find(image: string, model: string): Promise<PredictionRecord | null> {
    const r = await this.db
      .selectFrom('predictions')
      .selectAll()
      .where('image', '=', image)
      .where('model', '=', model)
      .executeTakeFirst();
    return r ? predictionOf(r as PredictionRow) : null;
  }

  /** The newest prediction of an image (by the project's current model when there is one). */
  async latest(image: string): Promise<PredictionRecord | null> {
    const r = await this.db
      .selectFrom('predictions as p')
      .innerJoin('images as i', 'i.id', 'p.image')
      .innerJoin('projects as j', 'j.id', 'i.project')
      .selectAll('p')
      .where('p.image', '=', image)
      .orderBy((eb) => eb('p.model', '=', eb.ref('j.current_model')), 'desc')
      .orderBy('p.created', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r ? predictionOf(r as PredictionRow) : null;
  }

  async list(image: string): Promise<PredictionRecord[]> {
    const rows = await this.db
      .selectFrom('predictions')
      .selectAll()
      .where('image', '=', image)
      .orderBy('created')
      .execute();
    return rows.map((r) => predictionOf(r as PredictionRow));
  }
}
