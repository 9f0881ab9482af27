import type { z } from 'zod';
import { ImpartialError } from '../errors.js';

/** The first problem zod found, as one line a person can act on. */
export function describeIssue(error: { issues: Array<{ path: PropertyKey[]; message: string }> }): string {
  const i = error.issues[0]!;
  return `${i.path.length ? i.path.map(String).join('.') : 'message'}: ${i.message}`;
}

/** Validates request input, or a 400 naming what is wrong (prefixed with `what` when given). */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown, what?: string): T {
  const r = schema.safeParse(value);
  if (!r.success)
    throw new ImpartialError('bad-request', what ? `${what}: ${describeIssue(r.error)}` : describeIssue(r.error));
  return r.data;
}

/** A non-negative integer from a query or path value (`fallback` when absent). */
export function nonNegativeInt(v: string | null, fallback: number, what: string): number {
  if (v === null) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new ImpartialError('bad-request', `${what} must be a non-negative integer, got "${v.slice(0, 40)}"`);
  return n;
}
