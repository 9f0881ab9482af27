import type { ErrorCode } from '@impartial/shared';

/** An error a client caused or should see as is; the HTTP layer maps `code` to a status. */
export class BridgeError extends Error {
  override name = 'BridgeError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new BridgeError('not-found', `${what} does not exist`);
