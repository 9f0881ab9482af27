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

/** A fetch that failed before any answer (refused, no route, DNS): the server is unreachable. */
function unreachable(location: string, e: unknown): ImpartialError | null {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  if (!(e instanceof TypeError) || !/fetch failed/i.test(e.message)) return null;
  const why = cause?.code ?? cause?.message ?? e.message;
  return new ImpartialError('unreachable', `${location}: cannot be reached (${why})`);
}

/** Level 0 of an OME-Zarr image (NGFF 0.4 or 0.5 axes; t and z at index 0), folder or http(s) URL. */
export async function openOmeZarrSource(
  location: string,
  limits: ImportLimits,
  signal?: AbortSignal,
): Promise<OpenedSource> {
  const isUrl = /^https?:\/\//i.test(location);
  const store = isUrl
    ? new FetchStore(location, { fetch: guardedFetch(limits.url, signal) })
    : new FileSystemStore(location);
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
        for (let c = 0; c < channels; c++) {
          const sel = axes.map((a, i) => (i === ci ? c : a === 'y' ? zarr.slice(y, y + rows) : a === 'x' ? null : 0));
          const got = (await zarr.get(arr, sel)) as { data: ArrayLike<number> };
          out.push(asDtype(got.data, dtype));
        }
        return out;
      },
      async close() {},
    };
  } catch (e) {
    if (e instanceof ImpartialError) throw e;
    throw (
      unreachable(location, e) ?? new InputError(`${location}: not a readable OME-Zarr image (${(e as Error).message})`)
    );
  }
}
