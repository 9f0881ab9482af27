import { html } from 'lit';
import type { ModelRecord } from '@impartial/shared/protocol';
import { lossChart } from './loss-chart.js';

export interface TrainingView {
  running: boolean;
  text: string;
  losses: Array<{ step: number; loss: number }>;
  models: ModelRecord[];
  current: string | null;
  suggestions: Array<{ x: number; y: number; width: number; height: number; entropy: number }>;
}

export interface TrainingActions {
  train(options: { seconds: number; learningRate: number; patch: number }): void;
  stop(): void;
  predict(passes: number): void;
  flyTo(rect: { x: number; y: number; width: number; height: number }): void;
}

/** Budget and knobs, start/stop, live loss chart, model versions with lineage, and where to annotate next. */
export function trainingPanel(v: TrainingView, act: TrainingActions) {
  const num = (root: Element | null, name: string) => Number((root?.querySelector(`[name=${name}]`) as HTMLInputElement | null)?.value);
  const start = (e: Event) => {
    const form = (e.target as HTMLElement).closest('details');
    act.train({ seconds: num(form, 'seconds'), learningRate: num(form, 'lr'), patch: num(form, 'patch') });
  };
  return html`<details open><summary>Training</summary>
    <div class="row"><label>seconds <input name="seconds" type="number" min="5" max="3600" value="60"></label>
      <label>lr <input name="lr" type="number" step="0.0001" min="0.00001" max="0.01" value="0.0005"></label></div>
    <div class="row"><label>patch <input name="patch" type="number" min="32" max="256" step="32" value="128"></label>
      <label>MC passes <input name="passes" type="number" min="1" max="16" value="3"></label></div>
    <div class="row">${v.running ? html`<button @click=${act.stop}>Stop</button>` : html`<button @click=${start}>Train</button>`}
      <button @click=${(e: Event) => act.predict(num((e.target as HTMLElement).closest('details'), 'passes'))}>Predict</button></div>
    <div class="progress">${v.text}</div>
    ${lossChart(v.losses)}
    <div class="models">${v.models.slice().reverse().slice(0, 8).map((m) => html`<div title=${`parent ${m.parent ?? 'none'}, strokes ${m.strokesHash}`}>
      ${m.id === v.current ? '●' : '○'} ${m.id.slice(0, 12)} · ${m.steps} steps · ${m.author}</div>`)}</div>
    ${v.suggestions.length ? html`<div>Annotate next:</div>${v.suggestions.slice(0, 6).map((s) => html`<button class="suggestion" @click=${() => act.flyTo(s)}>
      ${s.x},${s.y} · entropy ${s.entropy.toFixed(3)}</button>`)}` : ''}
  </details>`;
}
