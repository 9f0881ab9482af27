import type { ImageRecord } from '@impartial/shared';
import { notFound } from '../../errors.js';
import type { Db } from '../database/open.js';
import type { ImagesTable } from '../database/schema.js';
import { now } from './time.js';

/** Percentile range (p1, p98, all channels jointly) the engine normalises with, fixed at import. */
export interface ImageNorm {
  low: number;
  high: number;
}

/** An image as the bridge keeps it: the public record plus its normalisation and folder. */
export interface StoredImage extends ImageRecord {
  norm: ImageNorm;
  dir: string;
}

type ImageRow = ImagesTable;

/** Public record (no server paths). */
export function publicImage(image: StoredImage): ImageRecord {
  const { norm: _norm, dir: _dir, ...record } = image;
  return record;
}

/** Images of projects: size, channels, pyramid levels and where their OME-Zarr lives. */
export class ImageTable {
  constructor(
    private readonly db: Db,
    private readonly dirOf: (id: string) => string,
  ) {}

  private imageOf(r: ImageRow): StoredImage {
    return {
      id: r.id,
      project: r.project,
      name: r.name,
      width: r.width,
      height: r.height,
      channels: r.channels,
      channelNames: JSON.parse(r.channel_names) as string[],
      dtype: r.dtype,
      levels: r.levels,
      url: `/zarr/images/${r.id}/`,
      created: r.created,
      norm: JSON.parse(r.norm) as ImageNorm,
      dir: this.dirOf(r.id),
    };
  }

  async add(image: Omit<StoredImage, 'url' | 'created' | 'dir'>): Promise<StoredImage> {
    await this.db
      .insertInto('images')
      .values({
        id: image.id,
        project: image.project,
        name: image.name,
        width: image.width,
        height: image.height,
        channels: image.channels,
        channel_names: JSON.stringify(image.channelNames),
        dtype: image.dtype,
        levels: image.levels,
        norm: JSON.stringify(image.norm),
        created: now(),
      })
      .execute();
    return this.get(image.id);
  }

  async find(id: string): Promise<StoredImage | null> {
    const r = await this.db.selectFrom('images').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? this.imageOf(r) : null;
  }

  async get(id: string): Promise<StoredImage> {
    const image = await this.find(id);
    if (!image) throw notFound(`image ${id}`);
    return image;
  }

  async byName(project: string, name: string): Promise<StoredImage | null> {
    const r = await this.db
      .selectFrom('images')
      .selectAll()
      .where('project', '=', project)
      .where('name', '=', name)
      .orderBy('created', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r ? this.imageOf(r) : null;
  }

  async list(project: string): Promise<StoredImage[]> {
    const rows = await this.db
      .selectFrom('images')
      .selectAll()
      .where('project', '=', project)
      .orderBy('created')
      .orderBy('id')
      .execute();
    return rows.map((r) => this.imageOf(r));
  }

  async count(project: string): Promise<number> {
    const r = await this.db
      .selectFrom('images')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('project', '=', project)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** Forgets an image with its strokes, predictions, labels and info (the caller removes its files). */
  async remove(id: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      for (const table of ['strokes', 'predictions', 'labels', 'image_info'] as const) {
        await trx.deleteFrom(table).where('image', '=', id).execute();
      }
      await trx.deleteFrom('images').where('id', '=', id).execute();
    });
  }

  async info(image: string): Promise<Record<string, unknown>> {
    const r = await this.db.selectFrom('image_info').select('info').where('image', '=', image).executeTakeFirst();
    return r ? (JSON.parse(r.info) as Record<string, unknown>) : {};
  }

  async setInfo(image: string, info: Record<string, unknown>): Promise<void> {
    await this.db
      .insertInto('image_info')
      .values({ image, info: JSON.stringify(info) })
      .onConflict((oc) => oc.column('image').doUpdateSet((eb) => ({ info: eb.ref('excluded.info') })))
      .execute();
  }
}
