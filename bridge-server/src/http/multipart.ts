import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { newId } from '@impartial/shared';
import busboy from 'busboy';
import { ImpartialError } from '../errors.js';

export interface MultipartResult {
  fields: Record<string, string>;
  /** Uploaded files by field name, streamed to temporary files (the caller removes them). */
  files: Record<string, { file: string; filename: string; size: number }>;
  cleanup(): Promise<void>;
}

/** Parses multipart/form-data, streaming file parts to disk; refused past `limit` bytes a file. */
export function readMultipart(req: IncomingMessage, tempDir: string, limit: number): Promise<MultipartResult> {
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('multipart/form-data'))
    throw new ImpartialError('bad-request', `expected multipart/form-data, got ${type || 'no content type'}`);
  const fields: Record<string, string> = {};
  const files: MultipartResult['files'] = {};
  const cleanup = async () => {
    await Promise.all(Object.values(files).map((f) => rm(f.file, { force: true })));
  };
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, limits: { fileSize: limit, fieldSize: 1024 * 1024, files: 4, fields: 20 } });
    } catch (e) {
      reject(new ImpartialError('bad-request', `malformed multipart request (${(e as Error).message})`));
      return;
    }
    const writes: Array<Promise<void>> = [];
    let failure: ImpartialError | null = null;
    bb.on('field', (name, value) => {
      fields[name] = value;
    });
    bb.on('file', (name, stream, info) => {
      const file = path.join(tempDir, `${newId('m')}.part`);
      const entry = { file, filename: info.filename ?? name, size: 0 };
      files[name] = entry;
      stream.on('data', (d: Buffer) => {
        entry.size += d.length;
      });
      stream.on('limit', () => {
        failure = new ImpartialError('too-large', `file ${info.filename ?? name} is over the limit of ${limit} bytes`);
      });
      writes.push(new Promise((res, rej) => stream.pipe(createWriteStream(file)).on('finish', res).on('error', rej)));
    });
    bb.on('error', (e: Error) =>
      reject(new ImpartialError('bad-request', `malformed multipart request (${e.message})`)),
    );
    bb.on('close', () => {
      Promise.all(writes).then(
        async () => {
          if (failure) {
            await cleanup();
            reject(failure);
          } else resolve({ fields, files, cleanup });
        },
        async (e) => {
          await cleanup();
          reject(e);
        },
      );
    });
    req.pipe(bb);
  });
}
