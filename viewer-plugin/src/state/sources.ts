import { loadOmeZarrFromStore } from '@vivjs/loaders';
import FetchStore from '@zarrita/storage/fetch';
import type { LoadedZarr } from '../layers/image.js';

/** Opens an OME-Zarr (NGFF 0.4/0.5) with Viv's loader, sending the bridge token as a header. */
export async function openZarr(url: string, token: string | null): Promise<LoadedZarr> {
  const store = new FetchStore(url, token ? { overrides: { headers: { Authorization: `Bearer ${token}` } } } : {});
  return loadOmeZarrFromStore(store as never) as Promise<LoadedZarr>;
}

/** The image to show: `src` when given, else the bridge's copy of image `imageId`; '' when neither. */
export function imageUrl(src: string, bridge: string, imageId: string): string {
  if (src) return src;
  return bridge && imageId ? new URL(`/zarr/images/${imageId}/`, bridge).href : '';
}
