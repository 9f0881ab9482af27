import { readFileSync } from 'node:fs';

/** The bridge's version, from its package.json (dist/version.js sits one folder below it). */
export const BRIDGE_VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
