import { createHash, randomBytes } from 'node:crypto';

/*
 * Credentials are 256 random bits; only their SHA-256 is stored (a fast hash is enough for a secret
 * nobody chose). The prefix says what a leaked one is, for secret scanners and for people.
 */

export type SecretKind = 'cookie' | 'login' | 'token' | 'invite';

const PREFIX: Record<SecretKind, string> = { cookie: 'ims_', login: 'iml_', token: 'imp_', invite: 'imi_' };

export function newSecret(kind: SecretKind): string {
  return `${PREFIX[kind]}${randomBytes(32).toString('base64url')}`;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** A credential is short; anything longer is not one of ours and is not hashed. */
export const MAX_SECRET_LENGTH = 100;
