// Figures the benchmarks share.

/** The q-quantile of xs (nearest rank, from below): p50 is quantile(xs, 0.5). */
export function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}
