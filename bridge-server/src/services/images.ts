import { realpath } from 'node:fs/promises';
import path from 'node:path';
import type { ImageRecord, ImportRecord } from '@impartial/shared';
import { badRequest, ImpartialError } from '../errors.js';
import { exportLevel, imageTiff, scribblesTiff } from '../imaging/exports.js';
import { importImage } from '../imaging/import.js';
import { importSlideInBackground } from '../imaging/slide-import.js';
import { type OpenedSource, openOmeZarrSource, openSourcePath, openUpload } from '../imaging/sources/index.js';
import { publicImage, type StoredImage } from '../store/store.js';
import type { StorageQuota } from './accounts/quota.js';
import type { Actor } from './actor.js';
import type { ServiceContext } from './context.js';
import type { Scope } from './scope.js';
import { type ZarrFiles, zarrFiles } from './zarr-files.js';

/** How an import goes: `replace` an older image of the same name; stop when `signal` aborts (the client left). */
export interface ImportOptions {
  replace?: boolean;
  signal?: AbortSignal;
}

/** An uploaded file the transport streamed to disk (it removes the file afterwards). */
export interface Upload {
  file: string;
  type: 'tiff' | 'png';
}

/** Images: imports (upload, server path, URL, generated), reads, exports and deletion. */
export class ImageService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly scope: Scope,
    /** Folders a client may import images from by path. */
    private readonly importRoots: readonly string[],
    /** Each account's storage quota on a multi-user bridge that sets one. */
    private readonly quota: StorageQuota | null = null,
  ) {}

  get(actor: Actor, id: string): Promise<StoredImage> {
    return this.scope.image(actor, id, 'read');
  }

  async record(actor: Actor, id: string): Promise<ImageRecord> {
    return publicImage(await this.get(actor, id));
  }

  async list(actor: Actor, project: string): Promise<StoredImage[]> {
    return this.ctx.store.images.list((await this.scope.project(actor, project, 'read')).id);
  }

  async byName(actor: Actor, project: string, name: string): Promise<StoredImage | null> {
    return this.ctx.store.images.byName((await this.scope.project(actor, project, 'read')).id, name);
  }

  async imports(actor: Actor, project?: string): Promise<ImportRecord[]> {
    const visible = new Set((await this.scope.projects(actor)).map((p) => p.id));
    return this.ctx.store.imports.list(project).filter((i) => visible.has(i.project));
  }

  /**
   * Writes a source into the project. Nothing is indexed until the pyramid is complete, so a
   * failure leaves the project as it was; `replace` removes an older image of the same name after.
   */
  async importSource(
    actor: Actor,
    project: string,
    source: OpenedSource,
    name: string,
    options: ImportOptions = {},
  ): Promise<StoredImage> {
    let release = () => {};
    try {
      const p = await this.scope.project(actor, project, 'write');
      if (this.quota && p.owner) release = await this.quota.reserve(p.owner, source);
      const old = options.replace ? await this.ctx.store.images.byName(p.id, name) : null;
      const image = await importImage(this.ctx.store, source, {
        project: p.id,
        name: name || 'image',
        ...(options.signal ? { signal: options.signal } : {}),
      });
      if (old) await this.removeImage(old);
      return image;
    } finally {
      release();
      await source.close();
    }
  }

  async importUpload(actor: Actor, project: string, upload: Upload, name: string, options: ImportOptions = {}) {
    await this.scope.project(actor, project, 'write');
    const source = await openUpload(upload.file, upload.type, name, this.ctx.limits);
    return this.importSource(actor, project, source, name, options);
  }

  async importPath(actor: Actor, project: string, requested: string, name?: string, options: ImportOptions = {}) {
    await this.scope.project(actor, project, 'write');
    const file = await this.containedImportPath(requested);
    const source = await openSourcePath(file, this.ctx.limits);
    const base = path.basename(file).replace(/\.(ome\.)?(tiff?|zarr|png)$/i, '');
    return this.importSource(actor, project, source, name ?? base, options);
  }

  /** An OME-Zarr by http(s) URL, read through the URL policy (public hosts, byte cap, time limits). */
  async importUrl(actor: Actor, project: string, url: string, name?: string, options: ImportOptions = {}) {
    await this.scope.project(actor, project, 'write');
    const source = await openOmeZarrSource(url, this.ctx.limits, options.signal);
    const base = path.basename(new URL(url).pathname.replace(/\/+$/, '')).replace(/\.ome\.zarr$|\.zarr$/i, '');
    return this.importSource(actor, project, source, name ?? base, options);
  }

  /** The procedural demo slide (side x side x channels), written in a worker and added when done. */
  async importDemoSlide(
    actor: Actor,
    project: string,
    name: string,
    side: number,
    log: (line: string) => void,
  ): Promise<void> {
    const p = await this.scope.project(actor, project, 'write');
    importSlideInBackground(this.ctx.store, p.id, name, { side, channels: 8 }, log);
  }

  /**
   * A server-side path a client asked to import: only inside the import roots, also after symlinks.
   * A path outside them answers exactly as a missing one, without naming the roots, so that a client
   * cannot learn which files exist elsewhere on the machine.
   */
  private async containedImportPath(requested: string): Promise<string> {
    if (requested.includes('\0')) throw badRequest('path contains a NUL byte');
    const unavailable = new ImpartialError(
      'not-found',
      `${requested.slice(0, 300)}: no such file in the folders this bridge imports from (set with --import-root)`,
    );
    const resolved = await realpath(path.resolve(requested)).catch(() => null);
    if (!resolved) throw unavailable;
    for (const root of this.importRoots) {
      const r = await realpath(root).catch(() => null);
      if (!r) continue;
      const rel = path.relative(r, resolved);
      if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))) return resolved;
    }
    throw unavailable;
  }

  /** Forgets an image with its strokes, predictions and labels, then removes its files. */
  async delete(actor: Actor, id: string): Promise<void> {
    await this.removeImage(await this.scope.image(actor, id, 'write'));
  }

  private async removeImage(image: StoredImage): Promise<void> {
    const { store, strokes } = this.ctx;
    await store.images.remove(image.id);
    // A raster write still under way would recreate folders under the image removed below.
    await strokes.forget(image.id).catch(() => {}); // a stopped worker holds nothing to write
    const dirs = [store.layout.image(image.id), store.layout.predictions(image.id), store.layout.labels(image.id)];
    await Promise.all(dirs.map((d) => store.files.remove(d)));
  }

  async info(actor: Actor, id: string): Promise<Record<string, unknown>> {
    return this.ctx.store.images.info((await this.get(actor, id)).id);
  }

  async setInfo(actor: Actor, id: string, info: Record<string, unknown>): Promise<void> {
    await this.ctx.store.images.setInfo((await this.scope.image(actor, id, 'annotate')).id, info);
  }

  /** A level of the image as an ImageJ hyperstack TIFF (the finest level an export can read whole by default). */
  async tiff(actor: Actor, id: string, level?: number): Promise<Uint8Array> {
    const image = await this.get(actor, id);
    return imageTiff(this.ctx.store, image, level ?? exportLevel(image));
  }

  /** The scribble raster as it stands (pending writes flushed first), as a TIFF. */
  async scribblesTiff(actor: Actor, id: string, level = 0): Promise<Uint8Array> {
    const image = await this.get(actor, id);
    await this.ctx.strokes.flush(image.id);
    return scribblesTiff(image, level);
  }

  /**
   * Where the image's OME-Zarr file `file` is read from, for serving it. The scribble raster is
   * derived from the stroke log (the index, which every bridge node shares): this node's copy is
   * brought to the log as it stands and written out first (into object storage too, where there
   * is one), so a stroke drawn through another node shows as well.
   */
  async zarrFiles(actor: Actor, id: string, file: string): Promise<ZarrFiles> {
    const { id: imageId, dir } = await this.get(actor, id);
    if (file.startsWith('labels/scribbles/')) await this.ctx.strokes.flush(imageId);
    return zarrFiles(this.ctx.store, dir);
  }
}
