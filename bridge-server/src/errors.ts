import { ImpartialError } from '@impartial/shared';

/*
 * Shorthands for the typed errors the bridge raises (the class and its codes live in shared:
 * every transport maps a code the same way).
 */

export { ImpartialError };

export const notFound = (what: string) => new ImpartialError('not-found', `${what} does not exist`);
export const badRequest = (message: string) => new ImpartialError('bad-request', message);
export const conflict = (message: string) => new ImpartialError('conflict', message);
export const forbidden = (message: string) => new ImpartialError('forbidden', message);
export const tooLarge = (message: string) => new ImpartialError('too-large', message);

/** A limit that refuses for now: answered with its status and Retry-After. */
export class BusyError extends ImpartialError {
  constructor(
    message: string,
    readonly status: 429 | 503,
    readonly retryAfterS: number,
  ) {
    super('busy', message);
  }
}
