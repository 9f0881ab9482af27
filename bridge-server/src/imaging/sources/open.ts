import { readFile, stat } from 'node:fs/promises';
import { InputError } from '@impartial/shared';
import { openOmeZarrSource } from './ome-zarr.js';
import { pngSource } from './png.js';
import type { ImportLimits, OpenedSource } from './source.js';
import { openTiffSource } from './tiff.js';

/** Opens a local file or folder by what it is: an OME-Zarr folder, a TIFF, or a PNG. */
export async function openSourcePath(file: string, limits: ImportLimits): Promise<OpenedSource> {
  const info = await stat(file).catch(() => null);
  if (!info) throw new InputError(`${file}: no such file or folder`);
  if (info.isDirectory()) return openOmeZarrSource(file, limits);
  if (/\.tiff?$/i.test(file)) return openTiffSource(file, limits);
  if (/\.png$/i.test(file)) return pngSource(new Uint8Array(await readFile(file)), file, limits);
  throw new InputError(`${file}: unsupported image type (expected an OME-Zarr folder, .tif, .tiff, .ome.tif or .png)`);
}

/** Opens an uploaded file whose type was sniffed from its first bytes. */
export async function openUpload(
  file: string,
  type: 'tiff' | 'png',
  name: string,
  limits: ImportLimits,
): Promise<OpenedSource> {
  if (type === 'tiff') return openTiffSource(file, limits, name);
  return pngSource(new Uint8Array(await readFile(file)), name, limits);
}
