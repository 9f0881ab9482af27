import path from 'node:path';
import { forbidden } from '../errors.js';

/** root/parts..., refused unless it normalises to a path inside root. */
export function contained(root: string, ...parts: string[]): string {
  const resolved = path.resolve(root, ...parts);
  const rel = path.relative(root, resolved);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel) || parts.some((p) => p.includes('\0'))) {
    throw forbidden('path leaves its folder');
  }
  return resolved;
}
