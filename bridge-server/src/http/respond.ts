import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorCode } from '@impartial/shared';
import { BridgeError } from '../store/errors.js';

export const STATUS: Record<ErrorCode, number> = {
  'bad-request': 400,
  'bad-message': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'too-large': 413,
  'protocol-mismatch': 400,
  'not-ready': 409,
  unsupported: 415,
  'method-not-allowed': 405,
  busy: 429,
  internal: 500,
};

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
  const err = e instanceof BridgeError ? e : new BridgeError('internal', (e as Error)?.message ?? String(e));
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // An unread oversized body would otherwise stall the next request on this connection.
  if (err.code === 'too-large') res.setHeader('Connection', 'close');
  sendJson(res, STATUS[err.code], { error: { code: err.code, message: err.message } });
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
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit)
    throw new BridgeError('too-large', `request body of ${declared} bytes is over the limit of ${limit}`);
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BridgeError('too-large', `request body is over the limit of ${limit} bytes`);
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
    throw new BridgeError('bad-request', `request body is not valid JSON (${(e as Error).message})`);
  }
}
