import type { Db } from '../db.js';
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

  put(image: string, tag: string, ext: string, info: Record<string, unknown>): void {
    this.db
      .prepare(`INSERT INTO labels (image, tag, ext, info, created) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (image, tag) DO UPDATE SET ext = excluded.ext, info = excluded.info, created = excluded.created`)
      .run(image, tag, ext, JSON.stringify(info), now());
  }

  list(image: string): LabelFile[] {
    const rows = this.db.prepare('SELECT tag, ext, info, created FROM labels WHERE image = ? ORDER BY tag').all(image);
    return (rows as Array<{ tag: string; ext: string; info: string; created: string }>).map((r) => ({
      tag: r.tag,
      ext: r.ext,
      info: JSON.parse(r.info) as Record<string, unknown>,
      created: r.created,
    }));
  }

  find(image: string, tag: string): LabelFile | null {
    return this.list(image).find((l) => l.tag === tag) ?? null;
  }

  remove(image: string, tag: string): boolean {
    return this.db.prepare('DELETE FROM labels WHERE image = ? AND tag = ?').run(image, tag).changes > 0;
  }
}
