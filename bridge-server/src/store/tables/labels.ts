import type { Db } from '../database/open.js';
import { now } from './time.js';

export interface LabelFile {
  tag: string;
  ext: string;
  info: Record<string, unknown>;
  created: string;
}

/** Label files attached to an image under a tag (MONAI Label's datastore labels). */
export class LabelTable {
  constructor(private readonly db: Db) {}

  async put(image: string, tag: string, ext: string, info: Record<string, unknown>): Promise<void> {
    await this.db
      .insertInto('labels')
      .values({ image, tag, ext, info: JSON.stringify(info), created: now() })
      .onConflict((oc) =>
        oc.columns(['image', 'tag']).doUpdateSet((eb) => ({
          ext: eb.ref('excluded.ext'),
          info: eb.ref('excluded.info'),
          created: eb.ref('excluded.created'),
        })),
      )
      .execute();
  }

  async list(image: string): Promise<LabelFile[]> {
    const rows = await this.db
      .selectFrom('labels')
      .select(['tag', 'ext', 'info', 'created'])
      .where('image', '=', image)
      .orderBy('tag')
      .execute();
    return rows.map((r) => ({
      tag: r.tag,
      ext: r.ext,
      info: JSON.parse(r.info) as Record<string, unknown>,
      created: r.created,
    }));
  }

  async find(image: string, tag: string): Promise<LabelFile | null> {
    return (await this.list(image)).find((l) => l.tag === tag) ?? null;
  }

  async remove(image: string, tag: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('labels')
      .where('image', '=', image)
      .where('tag', '=', tag)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
