/**
 * A fresh record id: a one-letter prefix saying what it names (p project, i image, m model
 * version, j job, u upload), the time in base 36 so ids sort by creation, and 8 random hex digits.
 */
export function newId(prefix: string): string {
  const random = globalThis.crypto.getRandomValues(new Uint8Array(4));
  const hex = Array.from(random, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${prefix}${Date.now().toString(36)}${hex}`;
}
