import { createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { newId } from '@impartial/shared';
import { ImpartialError } from '../errors.js';

/** What a file is by its first bytes (clients often declare the wrong content type). */
export function sniffImageType(head: Uint8Array): 'tiff' | 'png' | null {
  if (
    head.length >= 4 &&
    ((head[0] === 0x49 && head[1] === 0x49 && head[2] === 42 && head[3] === 0) ||
      (head[0] === 0x4d && head[1] === 0x4d && head[2] === 0 && head[3] === 42))
  )
    return 'tiff';
  if (head.length >= 8 && head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47) return 'png';
  return null;
}

/** What a file on disk is by its first bytes. */
export async function sniffImageFile(file: string): Promise<'tiff' | 'png' | null> {
  const fh = await open(file, 'r');
  try {
    const head = new Uint8Array(8);
    await fh.read(head, 0, 8, 0);
    return sniffImageType(head);
  } finally {
    await fh.close();
  }
}

/**
 * Streams a request body into a temporary file (never into memory), refused past `limit` bytes.
 * Returns the file, named by what the bytes are; the caller removes it.
 */
export async function receiveUpload(
  req: IncomingMessage,
  tempDir: string,
  limit: number,
): Promise<{ file: string; type: 'tiff' | 'png' }> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit)
    throw new ImpartialError(
      'too-large',
      `upload of ${declared} bytes is over the limit of ${limit} (start the bridge with a larger --max-upload-mb)`,
    );
  const raw = path.join(tempDir, `${newId('u')}.upload`);
  const out = createWriteStream(raw);
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      done(size > limit ? new ImpartialError('too-large', `upload is over the limit of ${limit} bytes`) : null, chunk);
    },
  });
  try {
    await pipeline(req, counter, out);
    if (size === 0) throw new ImpartialError('bad-request', 'the upload is empty');
    const type = await sniffImageFile(raw);
    if (!type)
      throw new ImpartialError(
        'unsupported',
        'the upload is neither a TIFF nor a PNG (by its first bytes); ' +
          'send a TIFF/OME-TIFF or PNG, or import an OME-Zarr by path or URL',
      );
    const file = `${raw}.${type === 'tiff' ? 'tif' : 'png'}`;
    await rename(raw, file);
    return { file, type };
  } catch (e) {
    // The stream lets go of the file first: one opened after the removal would stay behind.
    if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
    await rm(raw, { force: true });
    if (!req.complete && !(e instanceof ImpartialError))
      throw new ImpartialError('bad-request', 'the client closed the request before its body ended');
    throw e;
  }
}
