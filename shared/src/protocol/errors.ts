import { z } from 'zod';

/*
 * Error codes every transport shares: REST answers them with an HTTP status, WebSocket in `error`
 * messages, Fiji in `code=`.
 */

export const ErrorCodeSchema = z.enum([
  'bad-request',
  'bad-message',
  'unauthorized',
  'forbidden',
  'not-found',
  'conflict',
  'too-large',
  'protocol-mismatch',
  'not-ready',
  'unsupported',
  'method-not-allowed',
  'busy',
  /** A remote server the bridge was asked to read from did not answer, broke off or failed (a URL import). */
  'unreachable',
  /** A part of the bridge stopped and is being started again: the same request may be sent again. */
  'unavailable',
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;

/** The HTTP status of each code: the one place that decides it. */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  'bad-request': 400,
  'bad-message': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  'method-not-allowed': 405,
  conflict: 409,
  'not-ready': 409,
  'too-large': 413,
  unsupported: 415,
  'protocol-mismatch': 400,
  busy: 429,
  internal: 500,
  unreachable: 502,
  unavailable: 503,
};

/** Every REST error answers this body. */
export const ErrorBodySchema = z.object({ error: z.object({ code: ErrorCodeSchema, message: z.string() }) });
export type ErrorBody = z.infer<typeof ErrorBodySchema>;
