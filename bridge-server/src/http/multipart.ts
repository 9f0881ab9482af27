import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { newId } from '@impartial/shared';
import busboy from 'busboy';
import { ImpartialError } from '../errors.js';

export interface MultipartResult {
  /** Text parts by name (a map without a prototype: a part may be called `__proto__`). */
  fields: Record<string, string>;
  /** Uploaded files by field name, streamed to temporary files (the caller removes them). */
  files: Record<string, { file: string; filename: string; size: number }>;
  cleanup(): Promise<void>;
}

/** Resolves once a write stream has let go of its file (also one destroyed before it opened it). */
const released = (s: WriteStream) =>
  new Promise<void>((resolve) => (s.closed ? resolve() : s.once('close', () => resolve())));

/**
 * Parses multipart/form-data, streaming file parts to disk; refused past `limit` bytes a file, and
 * when a part's name repeats. Every temporary file is removed on every path: by `cleanup` after
 * success, here on a refusal, a parser error or a client that leaves before the body ends.
 */
export function readMultipart(req: IncomingMessage, tempDir: string, limit: number): Promise<MultipartResult> {
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('multipart/form-data'))
    throw new ImpartialError('bad-request', `expected multipart/form-data, got ${type || 'no content type'}`);
  const fields: MultipartResult['fields'] = Object.create(null);
  const files: MultipartResult['files'] = Object.create(null);
  const seen = new Set<string>();
  const streams: WriteStream[] = [];
  const cleanup = async () => {
    await Promise.all(streams.map(released));
    await Promise.all(streams.map((s) => rm(s.path, { force: true })));
  };
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, limits: { fileSize: limit, fieldSize: 1024 * 1024, files: 4, fields: 20 } });
    } catch (e) {
      reject(new ImpartialError('bad-request', `malformed multipart request (${(e as Error).message})`));
      return;
    }
    let settled = false;
    let failure: Error | null = null;
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      req.unpipe(bb);
      for (const s of streams) s.destroy();
      void cleanup().then(
        () => reject(e),
        () => reject(e),
      );
    };
    const named = (name: string) => {
      if (seen.has(name)) {
        failure ??= new ImpartialError('bad-request', `the request has two parts named ${name.slice(0, 100)}`);
        return false;
      }
      seen.add(name);
      return true;
    };
    const tooMany = (what: string) => () => {
      failure ??= new ImpartialError('too-large', `too many ${what} in the multipart request`);
    };
    bb.on('filesLimit', tooMany('files')).on('fieldsLimit', tooMany('fields')).on('partsLimit', tooMany('parts'));
    bb.on('field', (name, value) => {
      if (named(name)) fields[name] = value;
    });
    const writes: Array<Promise<void>> = [];
    bb.on('file', (name, stream, info) => {
      if (!named(name) || failure) {
        stream.resume();
        return;
      }
      const file = path.join(tempDir, `${newId('m')}.part`);
      const out = createWriteStream(file);
      streams.push(out);
      const entry = { file, filename: info.filename ?? name, size: 0 };
      files[name] = entry;
      stream.on('data', (d: Buffer) => {
        entry.size += d.length;
      });
      stream.on('limit', () => {
        failure ??= new ImpartialError(
          'too-large',
          `file ${info.filename ?? name} is over the limit of ${limit} bytes`,
        );
      });
      writes.push(new Promise((res, rej) => stream.pipe(out).on('finish', res).on('error', rej)));
    });
    bb.on('error', (e: Error) => fail(new ImpartialError('bad-request', `malformed multipart request (${e.message})`)));
    bb.on('close', () => {
      Promise.all(writes).then(
        () => {
          if (failure) fail(failure);
          else if (!settled) {
            settled = true;
            resolve({ fields, files, cleanup });
          }
        },
        (e: Error) => fail(e),
      );
    });
    // A client that leaves before its body ends: busboy would wait for the rest forever.
    req.on('close', () => {
      if (!req.complete) fail(new ImpartialError('bad-request', 'the client closed the request before its body ended'));
    });
    req.pipe(bb);
  });
}
