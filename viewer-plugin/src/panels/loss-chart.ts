import { svg } from 'lit';

/** A small loss curve (training steps on x), redrawn as progress arrives. */
export function lossChart(points: ReadonlyArray<{ step: number; loss: number }>, width = 200, height = 60) {
  if (points.length < 2) return svg`<svg width=${width} height=${height}></svg>`;
  const steps = points.map((p) => p.step),
    losses = points.map((p) => p.loss);
  const x0 = Math.min(...steps),
    x1 = Math.max(...steps),
    lo = Math.min(...losses),
    hi = Math.max(...losses);
  const x = (s: number) => 2 + ((width - 4) * (s - x0)) / Math.max(1, x1 - x0);
  const y = (l: number) => 2 + (height - 4) * (1 - (l - lo) / Math.max(1e-9, hi - lo));
  const d = points.map((p, i) => `${i ? 'L' : 'M'}${x(p.step).toFixed(1)},${y(p.loss).toFixed(1)}`).join('');
  return svg`<svg width=${width} height=${height} role="img" aria-label="loss curve">
    <rect width=${width} height=${height} fill="#0006"/>
    <path d=${d} fill="none" stroke="#6cf" stroke-width="1.5"/></svg>`;
}
