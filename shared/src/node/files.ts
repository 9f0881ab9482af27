import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import FileSystemStore from '@zarrita/storage/fs';
import type { ImpartialModel } from '../engine/model.js';
import { deserializeModel, MODEL_JSON, MODEL_WEIGHTS, serializeModel } from '../engine/model-io.js';
import { InputError } from '../errors.js';
import { type Roi, readRoiZip } from '../formats/imagej-roi.js';
import { readOmeZarrImage } from '../formats/ome-zarr.js';
import { readLabelTiff, readTiff } from '../formats/tiff.js';
import type { LabelImage, MultiChannelImage } from '../image/types.js';

async function readBytes(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(
      code === 'ENOENT'
        ? `${file}: no such file`
        : code === 'EISDIR'
          ? `${file}: is a folder, expected a file`
          : `${file}: cannot read (${code})`,
    );
  }
}

const toArrayBuffer = (b: Buffer) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

/** Image name without folders and known extensions (image0.tif -> image0, a.ome.zarr -> a). */
export function imageBaseName(file: string): string {
  return path.basename(file.replace(/\/+$/, '')).replace(/\.(ome\.)?(tiff?|zarr)$/i, '');
}

/** Reads a TIFF/OME-TIFF/ImageJ hyperstack file or an OME-Zarr folder. */
export async function readImageFile(file: string, warn?: (m: string) => void): Promise<MultiChannelImage> {
  const info = await stat(file).catch(() => null);
  if (!info) throw new InputError(`${file}: no such file or folder`);
  if (info.isDirectory()) {
    try {
      return await readOmeZarrImage(new FileSystemStore(file));
    } catch (e) {
      throw new InputError(`${file}: not a readable OME-Zarr image (${(e as Error).message})`);
    }
  }
  if (!/\.tiff?$/i.test(file))
    throw new InputError(`${file}: unsupported image type (expected .tif, .tiff, .ome.tif or an .ome.zarr folder)`);
  try {
    return await readTiff(toArrayBuffer(await readBytes(file)), file, warn);
  } catch (e) {
    throw e instanceof InputError ? e : new InputError((e as Error).message);
  }
}

export async function readRoiZipFile(file: string, warn?: (m: string) => void): Promise<Roi[]> {
  const bytes = await readBytes(file);
  try {
    return readRoiZip(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), warn);
  } catch (e) {
    throw new InputError(`${file}: ${(e as Error).message}`);
  }
}

export async function readLabelTiffFile(file: string): Promise<LabelImage> {
  try {
    return await readLabelTiff(toArrayBuffer(await readBytes(file)), file);
  } catch (e) {
    throw e instanceof InputError ? e : new InputError((e as Error).message);
  }
}

/** Writes a file atomically (temporary file + rename), so a crash never leaves half a file. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

export async function saveModelDir(model: ImpartialModel, dir: string): Promise<void> {
  const { manifest, weights } = await serializeModel(model);
  await writeFileAtomic(path.join(dir, MODEL_WEIGHTS), new Uint8Array(weights));
  await writeFileAtomic(path.join(dir, MODEL_JSON), JSON.stringify(manifest, null, 1));
}

export async function loadModelDir(dir: string): Promise<ImpartialModel> {
  const json = await readBytes(path.join(dir, MODEL_JSON));
  const weights = await readBytes(path.join(dir, MODEL_WEIGHTS));
  let manifest: unknown;
  try {
    manifest = JSON.parse(json.toString('utf8'));
  } catch {
    throw new InputError(`${path.join(dir, MODEL_JSON)}: not valid JSON`);
  }
  try {
    return deserializeModel(manifest, toArrayBuffer(weights));
  } catch (e) {
    throw new InputError(`${dir}: ${(e as Error).message}`);
  }
}

export { FileSystemStore };
