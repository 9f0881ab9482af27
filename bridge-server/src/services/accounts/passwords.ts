import { hash, verify } from '@node-rs/argon2';
import { badRequest } from '../../errors.js';

/*
 * Passwords are hashed with argon2id (the library's defaults: m = 19 MiB, t = 2, p = 1, OWASP's
 * minimum, about 60 ms here). Hashing runs on libuv's thread pool, not the event loop.
 */

export const MIN_PASSWORD_LENGTH = 10;
/** Longer passwords would only make hashing a lever: nobody types more. */
export const MAX_PASSWORD_LENGTH = 1024;

export function checkPasswordRules(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw badRequest(`the password is too short: at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw badRequest(`the password is too long: at most ${MAX_PASSWORD_LENGTH} characters`);
  }
}

export function hashPassword(password: string): Promise<string> {
  checkPasswordRules(password);
  return hash(password);
}

/** A hash of nothing anyone knows: an unknown name is checked against it, so it takes as long as a known one. */
let decoy: Promise<string> | null = null;

export async function passwordMatches(stored: string | null, password: string): Promise<boolean> {
  if (password.length > MAX_PASSWORD_LENGTH) return false;
  decoy ??= hash(`decoy-${Math.random()}`);
  const against = stored ?? (await decoy);
  try {
    return (await verify(against, password)) && stored !== null;
  } catch {
    return false;
  }
}
