import { ImpartialError, InputError, type PixelArray, type SourceDtype } from '@impartial/shared';
import { FileSystemStore } from '@impartial/shared/node';
import FetchStore from '@zarrita/storage/fetch';
import * as zarr from 'zarrita';
import { guardedFetch } from './guarded-fetch.js';
import { asDtype, checkImageSize, type ImportLimits, type OpenedSource } from './source.js';

const ZARR_DTYPES: Record<string, SourceDtype> = { uint8: 'uint8', uint16: 'uint16', float32: 'float32' };

interface Multiscale {
  axes?: Array<{ name: string } | string>;
  datasets: Array<{ path: string }>;
}

/** Any error of zarrita's (a chunk it cannot decode, an answer it does not take) as the client's error. */
function unreadable(location: string, e: unknown): Error {
  if (e instanceof ImpartialError) return e;
  return new InputError(`${location}: not a readable OME-Zarr image (${(e as Error).message})`);
}

/** Level 0 of an OME-Zarr image (NGFF 0.4 or 0.5 axes; t and z at index 0), folder or http(s) URL. */
export async function openOmeZarrSource(
  location: string,
  limits: ImportLimits,
  signal?: AbortSignal,
): Promise<OpenedSource> {
  // A URL's fetch holds connections until it is closed: when the source is, or when opening fails.
  const fetch = /^https?:\/\//i.test(location) ? guardedFetch(location, limits.url, signal) : null;
  const store = fetch ? new FetchStore(location, { fetch }) : new FileSystemStore(location);
  try {
    const group = await zarr.open(zarr.root(store as zarr.Readable), { kind: 'group' });
    const attrs = group.attrs as {
      multiscales?: Multiscale[];
      ome?: { multiscales?: Multiscale[] };
      omero?: { channels?: Array<{ label?: string }> };
    };
    const ms = (attrs.multiscales ?? attrs.ome?.multiscales)?.[0];
    if (!ms) throw new Error('no multiscales in the group attributes');
    const arr = await zarr.open(group.resolve(ms.datasets[0]!.path), { kind: 'array' });
    const axes = (ms.axes ?? ['t', 'c', 'z', 'y', 'x'].slice(5 - arr.shape.length)).map((a) =>
      typeof a === 'string' ? a : a.name,
    );
    const ci = axes.indexOf('c');
    const height = arr.shape[axes.indexOf('y')]!,
      width = arr.shape[axes.indexOf('x')]!;
    const channels = ci >= 0 ? arr.shape[ci]! : 1;
    checkImageSize(location, { width, height, channels }, limits);
    const dtype = ZARR_DTYPES[arr.dtype] ?? 'float32';
    const names = (attrs.omero?.channels ?? []).map((c, i) => c.label ?? `C${i}`);
    return {
      width,
      height,
      channels,
      dtype,
      ...(names.length === channels ? { channelNames: names } : {}),
      async readRows(y, rows) {
        const out: PixelArray[] = [];
        try {
          for (let c = 0; c < channels; c++) {
            const sel = axes.map((a, i) => (i === ci ? c : a === 'y' ? zarr.slice(y, y + rows) : a === 'x' ? null : 0));
            const got = (await zarr.get(arr, sel)) as { data: ArrayLike<number> };
            out.push(asDtype(got.data, dtype));
          }
        } catch (e) {
          throw unreadable(location, e);
        }
        return out;
      },
      async close() {
        await fetch?.close();
      },
    };
  } catch (e) {
    await fetch?.close();
    throw unreadable(location, e);
  }
}
