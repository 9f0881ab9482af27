/** Bumped whenever a message changes shape; `hello` and `welcome` carry it. */
export const PROTOCOL_VERSION = 1;
