import type { ImageRecord } from '@impartial/shared';
import { notFound } from '../../errors.js';
import type { Db } from '../db.js';
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

interface ImageRow {
  id: string;
  project: string;
  name: string;
  width: number;
  height: number;
  channels: number;
  channel_names: string;
  dtype: string;
  levels: number;
  norm: string;
  created: string;
}

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

  add(image: Omit<StoredImage, 'url' | 'created' | 'dir'>): StoredImage {
    this.db
      .prepare(`INSERT INTO images
        (id, project, name, width, height, channels, channel_names, dtype, levels, norm, created)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(
        image.id,
        image.project,
        image.name,
        image.width,
        image.height,
        image.channels,
        JSON.stringify(image.channelNames),
        image.dtype,
        image.levels,
        JSON.stringify(image.norm),
        now(),
      );
    return this.get(image.id);
  }

  find(id: string): StoredImage | null {
    const r = this.db.prepare('SELECT * FROM images WHERE id = ?').get(id) as ImageRow | undefined;
    return r ? this.imageOf(r) : null;
  }

  get(id: string): StoredImage {
    const image = this.find(id);
    if (!image) throw notFound(`image ${id}`);
    return image;
  }

  byName(project: string, name: string): StoredImage | null {
    const r = this.db
      .prepare('SELECT * FROM images WHERE project = ? AND name = ? ORDER BY created DESC LIMIT 1')
      .get(project, name) as ImageRow | undefined;
    return r ? this.imageOf(r) : null;
  }

  list(project: string): StoredImage[] {
    const rows = this.db.prepare('SELECT * FROM images WHERE project = ? ORDER BY created, id').all(project);
    return (rows as ImageRow[]).map((r) => this.imageOf(r));
  }

  count(project: string): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM images WHERE project = ?').get(project) as { n: number }).n;
  }

  /** Forgets an image with its strokes, predictions, labels and info (the caller removes its files). */
  remove(id: string): void {
    this.db.transaction(() => {
      for (const table of ['strokes', 'predictions', 'labels', 'image_info']) {
        this.db.prepare(`DELETE FROM ${table} WHERE image = ?`).run(id);
      }
      this.db.prepare('DELETE FROM images WHERE id = ?').run(id);
    })();
  }

  info(image: string): Record<string, unknown> {
    const r = this.db.prepare('SELECT info FROM image_info WHERE image = ?').get(image) as { info: string } | undefined;
    return r ? (JSON.parse(r.info) as Record<string, unknown>) : {};
  }

  setInfo(image: string, info: Record<string, unknown>): void {
    this.db
      .prepare(
        'INSERT INTO image_info (image, info) VALUES (?, ?) ON CONFLICT (image) DO UPDATE SET info = excluded.info',
      )
      .run(image, JSON.stringify(info));
  }
}
