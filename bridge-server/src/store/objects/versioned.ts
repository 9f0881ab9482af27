import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ObjectBody, ObjectStore } from './s3.js';

/*
 * A folder of the data folder (an OME-Zarr image, a model, a prediction) kept as objects:
 *   KEY/.versions/VERSION/FILE   every file of one version
 *   KEY/.current.json            {"version": VERSION}, written after the files it points to
 * A PUT is atomic, so a reader that follows the pointer sees a whole version or the one before,
 * never half of one; a new version is written beside the old one, which goes after the switch.
 */

const POINTER = '.current.json';
const VERSIONS = '.versions';
/** Uploads and downloads at once per folder. */
const PARALLEL = 8;
/** How long a reader trusts the pointer it read (predictions move to a new version on every run). */
const POINTER_TTL_MS = 1000;
const POINTER_CACHE = 10_000;

export const newVersion = (): string => `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;

/** Runs `fn` over the items, a few at a time. */
export async function inParallel<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, lane));
}

async function filesUnder(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await filesUnder(dir, r)));
    else if (e.isFile()) out.push(r);
  }
  return out;
}

export class VersionedObjects {
  private readonly pointers = new Map<string, { version: string | null; at: number }>();

  constructor(readonly objects: ObjectStore) {}

  fileKey(key: string, version: string, file: string): string {
    return `${key}/${VERSIONS}/${version}/${file.replace(/^\/+/, '')}`;
  }

  /** The version a reader should use, or null when nothing is published under the key. */
  async current(key: string, fresh = false): Promise<string | null> {
    const cached = this.pointers.get(key);
    if (!fresh && cached && Date.now() - cached.at < POINTER_TTL_MS) return cached.version;
    const raw = await this.objects.get(`${key}/${POINTER}`);
    const version = raw
      ? ((JSON.parse(Buffer.from(raw).toString('utf8')) as { version?: string }).version ?? null)
      : null;
    if (this.pointers.size >= POINTER_CACHE) this.pointers.clear();
    this.pointers.set(key, { version, at: Date.now() });
    return version;
  }

  /** Makes `version` the one readers see. */
  async point(key: string, version: string): Promise<void> {
    await this.objects.put(`${key}/${POINTER}`, JSON.stringify({ version }), 'application/json');
    this.pointers.set(key, { version, at: Date.now() });
  }

  async putFile(key: string, version: string, file: string, bytes: Uint8Array): Promise<void> {
    await this.objects.put(this.fileKey(key, version, file), bytes);
  }

  /** Uploads a local folder as a new version, points readers at it, then drops the versions before. */
  async publish(dir: string, key: string): Promise<string> {
    const version = newVersion();
    const files = await filesUnder(dir);
    await inParallel(files, async (f) => this.putFile(key, version, f, await readFile(path.join(dir, f))));
    await this.point(key, version);
    await this.prune(key, version);
    return version;
  }

  /** Deletes every version of the key but `keep`. */
  async prune(key: string, keep: string): Promise<void> {
    const old: string[] = [];
    const keepPrefix = `${key}/${VERSIONS}/${keep}/`;
    for await (const k of this.objects.list(`${key}/${VERSIONS}/`)) if (!k.startsWith(keepPrefix)) old.push(k);
    await this.objects.delete(old);
  }

  /**
   * Downloads the current version into `dir` (written beside it, then renamed into place). False
   * when nothing is published under the key.
   */
  async fetch(key: string, dir: string): Promise<boolean> {
    const version = await this.current(key, true);
    if (!version) return false;
    const prefix = `${key}/${VERSIONS}/${version}/`;
    const files: string[] = [];
    for await (const k of this.objects.list(prefix)) files.push(k.slice(prefix.length));
    const tmp = `${dir}.fetching-${randomBytes(4).toString('hex')}`;
    try {
      await inParallel(files, async (f) => {
        const bytes = await this.objects.get(prefix + f);
        if (!bytes) throw new Error(`${key}: ${f} went away while it was read (a newer version replaced it)`);
        await mkdir(path.dirname(path.join(tmp, f)), { recursive: true });
        await writeFile(path.join(tmp, f), bytes);
      });
      await mkdir(tmp, { recursive: true });
      await rm(dir, { recursive: true, force: true });
      await mkdir(path.dirname(dir), { recursive: true });
      await rename(tmp, dir);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    return true;
  }

  /** One file of the current version, as a stream; null when there is no such file or no version. */
  async open(key: string, file: string): Promise<ObjectBody | null> {
    const version = await this.current(key);
    return version ? this.objects.open(this.fileKey(key, version, file)) : null;
  }

  /** A presigned URL of one file of the current version; null when nothing is published. */
  async presign(key: string, file: string, seconds: number): Promise<string | null> {
    const version = await this.current(key);
    return version ? this.objects.presign(this.fileKey(key, version, file), seconds) : null;
  }

  /** Forgets the key: the pointer first (readers stop), then every version. */
  async remove(key: string): Promise<void> {
    this.pointers.delete(key);
    const all: string[] = [];
    for await (const k of this.objects.list(`${key}/`)) all.push(k);
    const pointer = `${key}/${POINTER}`;
    if (all.includes(pointer)) await this.objects.delete([pointer]);
    await this.objects.delete(all.filter((k) => k !== pointer));
  }
}
