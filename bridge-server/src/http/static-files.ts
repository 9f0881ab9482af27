import { createReadStream } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ImpartialError } from '../errors.js';
import { contained } from '../files/contained.js';
import type { ZarrFiles } from '../services/zarr-files.js';

const TYPES: Record<string, string> = {
  '.zattrs': 'application/json',
  '.zarray': 'application/json',
  '.zgroup': 'application/json',
  '.json': 'application/json',
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

const contentType = (file: string) =>
  TYPES[path.extname(file)] ?? TYPES[path.basename(file)] ?? 'application/octet-stream';

function checkRelative(rest: string): void {
  if (rest.includes('\0') || rest.split(/[\\/]/).includes('..'))
    throw new ImpartialError('forbidden', 'path leaves its folder');
}

/**
 * Serves a file of an OME-Zarr from its folder, or from object storage: streamed (with the
 * object's ETag, so clients revalidate as with files) or, when the store presigns, by a redirect.
 */
export async function serveZarr(req: IncomingMessage, res: ServerResponse, files: ZarrFiles, rest: string) {
  if ('folder' in files) return serveFile(req, res, files.folder, rest);
  checkRelative(rest);
  if (!rest || rest.endsWith('/')) throw new ImpartialError('not-found', `${rest || '/'} is not a file`);
  const url = await files.presigned(rest);
  if (url) {
    res.writeHead(307, { Location: url, 'Cache-Control': 'no-store' });
    res.end();
    return;
  }
  const object = await files.open(rest);
  if (!object) throw new ImpartialError('not-found', `${rest} does not exist`);
  const etag = object.etag;
  if (etag && req.headers['if-none-match'] === etag) {
    object.body.destroy();
    res.writeHead(304, { ETag: etag });
    res.end();
    return;
  }
  res.writeHead(200, {
    'Content-Type': contentType(rest),
    'Content-Length': String(object.length),
    ...(etag ? { ETag: etag } : {}),
    'Cache-Control': 'no-cache',
  });
  if (req.method === 'HEAD') {
    object.body.destroy();
    res.end();
    return;
  }
  await pipeline(object.body, res);
}

/**
 * Serves root/rest: the path is normalised and must stay inside root, also after symlinks are
 * resolved; folders are not listed. Chunks of a prediction change while it is computed, so
 * responses carry an ETag and clients revalidate (304 when unchanged). An HTML page gets the
 * Content-Security-Policy `pagePolicy` makes of its text, when given (else the data policy set for all).
 */
export async function serveFile(
  req: IncomingMessage,
  res: ServerResponse,
  root: string,
  rest: string,
  pagePolicy?: (html: string) => string,
): Promise<void> {
  checkRelative(rest);
  const file = contained(root, rest || '.');
  const [realRoot, realFile] = await Promise.all([realpath(root).catch(() => null), realpath(file).catch(() => null)]);
  if (!realRoot || !realFile) throw new ImpartialError('not-found', `${rest || '/'} does not exist`);
  const rel = path.relative(realRoot, realFile);
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw new ImpartialError('forbidden', 'path leaves its folder');
  const info = await stat(realFile);
  if (!info.isFile()) throw new ImpartialError('not-found', `${rest || '/'} is not a file`);
  const etag = `"${info.size.toString(36)}-${Math.floor(info.mtimeMs).toString(36)}"`;
  const headers = {
    'Content-Type': contentType(realFile),
    'Content-Length': String(info.size),
    ETag: etag,
    'Cache-Control': 'no-cache',
  };
  if (pagePolicy && path.extname(realFile) === '.html') {
    const html = await readFile(realFile, 'utf8');
    res.setHeader('Content-Security-Policy', pagePolicy(html));
  }
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, { ETag: etag });
    res.end();
    return;
  }
  res.writeHead(200, headers);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  await new Promise<void>((resolve, reject) =>
    createReadStream(realFile).on('error', reject).on('end', resolve).pipe(res),
  );
}
