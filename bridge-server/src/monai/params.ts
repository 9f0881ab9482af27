import { ImpartialError } from '../errors.js';

/** A JSON object from a form field (MONAI clients send params and info as JSON strings). */
export function parseParams(text: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new ImpartialError('bad-request', `${what} must be a JSON object (got ${text.slice(0, 40)})`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) {
    throw new ImpartialError('bad-request', `${what} must be a JSON object`);
  }
  return v as Record<string, unknown>;
}
