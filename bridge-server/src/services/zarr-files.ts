import type { Readable } from 'node:stream';
import { ImpartialError } from '../errors.js';
import type { Store } from '../store/store.js';

/** One file of an OME-Zarr in object storage, as the HTTP answer needs it. */
export interface ZarrObject {
  body: Readable;
  length: number;
  etag: string | undefined;
}

/**
 * Where the files of an image's or prediction's OME-Zarr are read from: a folder here, or object
 * storage (streamed through the bridge, or a presigned URL the viewer is sent to).
 */
export type ZarrFiles =
  | { folder: string }
  | {
      open(file: string): Promise<ZarrObject | null>;
      /** A URL that reads the file directly; null when viewers read through the bridge. */
      presigned(file: string): Promise<string | null>;
    };

export function zarrFiles(store: Store, dir: string): ZarrFiles {
  const objects = store.files.objects;
  if (!objects) return { folder: dir };
  const key = store.files.keyOf(dir);
  const seconds = store.files.presignSeconds;
  // Object storage that fails to answer is a bad gateway, named, not an error of the bridge.
  const reach = <T>(p: Promise<T>) =>
    p.catch((e: Error) => {
      throw new ImpartialError('unreachable', `object storage ${store.files.where}: ${e.message || e.name}`);
    });
  return {
    open: (file) => reach(objects.open(key, file)),
    presigned: async (file) => (seconds ? reach(objects.presign(key, file, seconds)) : null),
  };
}
