/** A loss curve as a small self-contained SVG: every step faint, a moving average on top. */
export function lossCurveSvg(losses: readonly number[], title: string): string {
  const W = 640,
    H = 320,
    left = 56,
    right = 16,
    top = 32,
    bottom = 40;
  const n = losses.length;
  if (n === 0) {
    const empty = '<text x="20" y="40">no training steps</text>';
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">${empty}</svg>\n`;
  }
  const sorted = [...losses].sort((a, b) => a - b);
  const lo = Math.min(0, sorted[0]!),
    hi = sorted[Math.floor(0.98 * (n - 1))]! * 1.05 || 1; // clip the first spikes
  const x = (i: number) => left + ((W - left - right) * i) / Math.max(1, n - 1);
  const y = (v: number) => top + (H - top - bottom) * (1 - (Math.min(v, hi) - lo) / (hi - lo));
  const window = Math.max(1, Math.round(n / 25));
  const smooth = losses.map((_, i) => {
    const from = Math.max(0, i - window + 1);
    return losses.slice(from, i + 1).reduce((s, v) => s + v, 0) / (i + 1 - from);
  });
  const path = (vs: readonly number[]) =>
    vs.map((v, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join('');
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => lo + f * (hi - lo));
  const escapeXml = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const tickLines = ticks.map((v) => {
    const line = `<line x1="${left}" x2="${W - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`;
    const label = `<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v.toFixed(2)}</text>`;
    return `${line}${label}`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">
<rect width="${W}" height="${H}" fill="white"/>
<text x="${left}" y="20" font-size="14">${escapeXml(title)}</text>
${tickLines.join('\n')}
<path d="${path(losses)}" fill="none" stroke="#9ab" stroke-width="1"/>
<path d="${path(smooth)}" fill="none" stroke="#c33" stroke-width="2"/>
<text x="${(W + left) / 2}" y="${H - 10}" text-anchor="middle">step (1 - ${n})</text>
<text x="14" y="${(H / 2).toFixed(0)}" transform="rotate(-90 14 ${(H / 2).toFixed(0)})" text-anchor="middle">loss</text>
</svg>
`;
}
