import type { ErrorCode } from './protocol/errors.js';

/**
 * The one error base class of the project: a code that says what kind of problem it is (and so
 * the HTTP status, WebSocket error code or Fiji `error=` line it becomes) and a message a person
 * can act on. Anything else that escapes is a bug and answers as `internal`.
 */
export class ImpartialError extends Error {
  override name = 'ImpartialError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A file or request whose content is malformed (a truncated TIFF, a broken ROI set): 400. */
export class InputError extends ImpartialError {
  override name = 'InputError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('bad-request', message, options);
  }
}

/** Input larger than a limit the caller set (pixels, bytes, entries): 413, naming the size and the limit. */
export class LimitError extends ImpartialError {
  override name = 'LimitError';
  constructor(message: string) {
    super('too-large', message);
  }
}

/** True for errors of this project (a typed code and a message meant for people). */
export function isImpartialError(e: unknown): e is ImpartialError {
  return e instanceof ImpartialError;
}
