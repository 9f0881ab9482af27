import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { RegionSource } from '@impartial/shared';
import { tooLarge } from '../../errors.js';
import type { ServiceContext } from '../context.js';

/*
 * A per-account storage quota (`--quota-gb`) on images, which take nearly all of the disk: what an
 * account's projects hold is measured once per image (an imported pyramid never changes) and an
 * import that would pass the quota is refused with 413 before anything is written.
 */

const BYTES: Record<RegionSource['dtype'], number> = { uint8: 1, uint16: 2, float32: 4 };
/** 341.3 KB, 12.0 MB, 1.50 GB. */
function size(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024).toFixed(1)} KB`;
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])) {
    if (e.isFile()) total += (await stat(path.join(e.parentPath, e.name)).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

export class StorageQuota {
  private readonly measured = new Map<string, number>();
  /** Bytes held for imports under way, by owner: parallel imports cannot all pass the same check. */
  private readonly reserved = new Map<string, number>();

  constructor(
    private readonly ctx: ServiceContext,
    readonly quotaBytes: number,
  ) {}

  /** Bytes the images of an account's projects take on disk. */
  async usage(owner: string): Promise<number> {
    let total = 0;
    for (const project of await this.ctx.store.projects.list()) {
      if (project.owner !== owner) continue;
      for (const image of await this.ctx.store.images.list(project.id)) {
        let bytes = this.measured.get(image.id);
        if (bytes === undefined) {
          bytes = await folderBytes(image.dir);
          this.measured.set(image.id, bytes);
        }
        total += bytes;
      }
    }
    return total;
  }

  /**
   * Holds room for an import into an account's project (its pyramid, uncompressed) while it runs, or
   * refuses it with 413 when that would pass the quota. The returned function lets the room go.
   */
  async reserve(owner: string, source: RegionSource): Promise<() => void> {
    const adding = source.width * source.height * source.channels * BYTES[source.dtype] * (4 / 3);
    const used = (await this.usage(owner)) + (this.reserved.get(owner) ?? 0);
    if (used + adding <= this.quotaBytes) {
      this.reserved.set(owner, (this.reserved.get(owner) ?? 0) + adding);
      return () => {
        const left = (this.reserved.get(owner) ?? 0) - adding;
        if (left > 0.5) this.reserved.set(owner, left);
        else this.reserved.delete(owner);
      };
    }
    const name = (await this.ctx.store.users.find(owner))?.name ?? owner;
    throw tooLarge(
      `this image may take up to ${size(adding)}; ${name} has ${size(used)} of the ${size(this.quotaBytes)} quota ` +
        'in use (--quota-gb): delete images or ask an admin',
    );
  }
}
