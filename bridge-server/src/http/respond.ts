import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ErrorCode, HTTP_STATUS } from '@impartial/shared';
import { ImpartialError } from '../errors.js';

/** Any error as the typed error a client sees; anything untyped is a bug: logged whole, answered as `internal`. */
export function asImpartialError(e: unknown): ImpartialError {
  if (e instanceof ImpartialError) return e;
  process.stderr.write(`internal error: ${(e as Error)?.stack ?? String(e)}\n`);
  return new ImpartialError('internal', `internal error (logged by the bridge): ${(e as Error)?.message ?? String(e)}`);
}

/** The HTTP status of an error code (the table lives in shared/protocol, for every client to read). */
export const statusOf = (code: ErrorCode) => HTTP_STATUS[code];

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

export function sendError(res: ServerResponse, e: unknown): void {
  const err = asImpartialError(e);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // An unread oversized body would otherwise stall the next request on this connection.
  if (err.code === 'too-large') res.setHeader('Connection', 'close');
  sendJson(res, statusOf(err.code), { error: { code: err.code, message: err.message } });
}

export function sendBytes(
  res: ServerResponse,
  bytes: Uint8Array | string,
  type: string,
  extra: Record<string, string> = {},
): void {
  res.writeHead(200, {
    'Content-Type': type,
    'Content-Length': typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.byteLength,
    ...extra,
  });
  res.end(bytes);
}

/** The request body, refused with 413 past `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > limit) {
    throw new ImpartialError('too-large', `request body of ${declared} bytes is over the limit of ${limit}`);
  }
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new ImpartialError('too-large', `request body is over the limit of ${limit} bytes`);
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const body = await readBody(req, limit);
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new ImpartialError('bad-request', `request body is not valid JSON (${(e as Error).message})`);
  }
}

/** Aborts when the client goes away before its answer is sent (a long import then stops). */
export function abortedByClient(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort(new ImpartialError('bad-request', 'the client closed the request'));
  });
  return controller.signal;
}

/** A small form: URL-encoded (as HTML forms and OkHttp's FormBody send it) or a JSON object of strings. */
export async function readFields(req: IncomingMessage, limit = 64 * 1024): Promise<Record<string, string>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const fields: Record<string, string> = Object.create(null);
  if (type === 'application/json') {
    const body = await readJson(req, limit);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new ImpartialError('bad-request', 'the request body must be a JSON object');
    }
    for (const [k, v] of Object.entries(body))
      if (typeof v === 'string' || typeof v === 'boolean') fields[k] = String(v);
    return fields;
  }
  const body = await readBody(req, limit);
  for (const [k, v] of new URLSearchParams(body.toString('utf8'))) fields[k] = v;
  return fields;
}
