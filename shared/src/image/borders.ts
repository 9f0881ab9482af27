/**
 * Reflects an index into [0, n) without repeating the edge (numpy's 'reflect' mode), so images
 * smaller than a patch or tile still work.
 */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let m = ((i % period) + period) % period;
  if (m >= n) m = period - m;
  return m;
}
