import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ReadableStore } from '@impartial/shared';
import { FileSystemStore, writeFileAtomic } from '@impartial/shared/node';
import type * as zarr from 'zarrita';
import { ObjectStore, parseObjectStoreUrl } from './objects/s3.js';
import { inParallel, newVersion, VersionedObjects } from './objects/versioned.js';

/*
 * Where the data folder's folders (images, models, predictions, checkpoints) really live. Embedded,
 * the data folder itself; with `--store s3://...`, object storage, and the data folder is this
 * machine's cache of it: whatever is written is published as a new version of its objects, and a
 * machine that lacks a model or checkpoint fetches it. Images and predictions are read in place,
 * chunk by chunk, so a worker reads only the regions it needs of a whole slide. A folder's object
 * key is its path under the data folder.
 */
/** What a task needs to reach object storage: its URL, and the data folder its spec's paths are under. */
export interface TaskFilesSpec {
  store: string;
  root: string;
}

export class DataFiles {
  private constructor(
    readonly root: string,
    readonly objects: VersionedObjects | null,
    private readonly url: string | null = null,
  ) {}

  /** Everything in the data folder (the embedded default). */
  static folder(root: string): DataFiles {
    return new DataFiles(path.resolve(root), null);
  }

  /** Object storage at `url`, cached in the data folder; fails naming the bucket when it is not usable. */
  static async objectStore(root: string, url: string): Promise<DataFiles> {
    const objects = new ObjectStore(parseObjectStoreUrl(url));
    await objects.check();
    return new DataFiles(path.resolve(root), new VersionedObjects(objects), url);
  }

  /** Runs a task (in a thread, a worker process) with its files: the folder, or object storage; closed after. */
  static async forTask<T>(spec: TaskFilesSpec | undefined, run: (files: DataFiles) => Promise<T>): Promise<T> {
    const files = spec ? await DataFiles.objectStore(spec.root, spec.store) : DataFiles.folder('/');
    try {
      return await run(files);
    } finally {
      files.close();
    }
  }

  /** What a task spec carries so that the task reaches the same object storage (nothing when embedded). */
  taskSpec(): { files?: TaskFilesSpec } {
    return this.url ? { files: { store: this.url, root: this.root } } : {};
  }

  /** Where the objects are, for the backend line and logs; null when embedded. */
  get where(): string | null {
    return this.objects?.objects.where ?? null;
  }

  /** Seconds a presigned read stays valid, when viewers are sent to the object store directly. */
  get presignSeconds(): number | undefined {
    return this.objects?.objects.target.presignSeconds;
  }

  keyOf(dir: string): string {
    const rel = path.relative(this.root, path.resolve(dir));
    if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) throw new Error(`${dir} is not under ${this.root}`);
    return rel.split(path.sep).join('/');
  }

  /** Publishes a folder just written (whole) in the data folder. */
  async publish(dir: string): Promise<void> {
    if (this.objects) await this.objects.publish(dir, this.keyOf(dir));
  }

  /**
   * Makes sure a folder that never changes once written (a model, a catalogue entry) is here,
   * fetching it when it is not. False when it is neither here nor published.
   */
  async have(dir: string): Promise<boolean> {
    if (existsSync(dir)) return true;
    return this.objects ? this.objects.fetch(this.keyOf(dir), dir) : false;
  }

  /** The published version of a folder that changes (a checkpoint) replaces the local copy; false when none. */
  async refresh(dir: string): Promise<boolean> {
    return this.objects ? this.objects.fetch(this.keyOf(dir), dir) : existsSync(dir);
  }

  /**
   * Writes one file whole, not versioned (a task's share of work, a label file): an object replaced
   * by a put is never seen half written.
   */
  async putBlob(file: string, bytes: Uint8Array): Promise<void> {
    if (this.objects) return this.objects.objects.put(this.keyOf(file), bytes);
    await writeFileAtomic(file, bytes);
  }

  /** A file putBlob wrote, or null when there is none. */
  async getBlob(file: string): Promise<Uint8Array | null> {
    if (this.objects) return this.objects.objects.get(this.keyOf(file));
    return readFile(file).then(
      (b) => new Uint8Array(b),
      () => null,
    );
  }

  /** Removes a file putBlob wrote. */
  async removeBlob(file: string): Promise<void> {
    if (this.objects) await this.objects.objects.delete([this.keyOf(file)]);
    else await rm(file, { force: true });
  }

  /** Removes a folder here and in the object store. */
  async remove(dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true });
    if (this.objects) await this.objects.remove(this.keyOf(dir));
  }

  /** A zarr store reading the folder's current version (its chunks as they are asked for). */
  async zarr(dir: string): Promise<ReadableStore> {
    if (!this.objects) return new FileSystemStore(dir);
    const key = this.keyOf(dir);
    const version = await this.objects.current(key, true);
    const objects = this.objects;
    return {
      async get(file: zarr.AbsolutePath) {
        if (!version) return undefined;
        return (await objects.objects.get(objects.fileKey(key, version, file))) ?? undefined;
      },
    };
  }

  close(): void {
    this.objects?.objects.close();
  }

  /** A zarr store to write a folder through, published as it goes (see ZarrPublisher). */
  publisher(dir: string): ZarrPublisher {
    return new ZarrPublisher(dir, this.objects ? { objects: this.objects, key: this.keyOf(dir) } : null);
  }

  /**
   * A zarr store to change a published folder through (an image's scribble raster): what a flush
   * uploads goes into the version readers see now. Embedded, only the folder is written.
   */
  async mirror(dir: string): Promise<ZarrPublisher> {
    if (!this.objects) return new ZarrPublisher(dir, null);
    const key = this.keyOf(dir);
    const version = await this.objects.current(key);
    if (!version) throw new Error(`${key} is not in the object storage ${this.where}`);
    return new ZarrPublisher(dir, { objects: this.objects, key }, version);
  }
}

/**
 * A zarr folder written here and uploaded, chunk by chunk, to a version of its objects (by default
 * a new one): what a flush uploads is readable once the version is pointed at (after the metadata)
 * - tiles of a prediction appear as they land, as they do on disk. Embedded, only the folder is written.
 */
export class ZarrPublisher {
  readonly local: FileSystemStore;
  private pending = new Map<string, Uint8Array>();

  constructor(
    dir: string,
    private readonly remote: { objects: VersionedObjects; key: string } | null,
    private readonly version = newVersion(),
  ) {
    this.local = new FileSystemStore(dir);
  }

  get(key: zarr.AbsolutePath): Promise<Uint8Array | undefined> {
    return this.local.get(key);
  }

  async set(key: zarr.AbsolutePath, value: Uint8Array): Promise<void> {
    await this.local.set(key, value);
    if (this.remote) this.pending.set(key, value);
  }

  /** Uploads what was written since the last flush. */
  async flush(): Promise<void> {
    if (!this.remote) return;
    const { objects, key } = this.remote;
    const batch = [...this.pending];
    this.pending = new Map();
    await inParallel(batch, ([file, bytes]) => objects.putFile(key, this.version, file, bytes));
  }

  /** Flushes and makes this version the one readers see. */
  async point(): Promise<void> {
    await this.flush();
    if (this.remote) await this.remote.objects.point(this.remote.key, this.version);
  }

  /** Drops the versions before this one (once it is complete). */
  async prune(): Promise<void> {
    if (this.remote) await this.remote.objects.prune(this.remote.key, this.version);
  }
}
