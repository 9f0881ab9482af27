import type { Readable } from 'node:stream';
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
  return {
    open: (file) => objects.open(key, file),
    presigned: async (file) => (seconds ? objects.presign(key, file, seconds) : null),
  };
}
