import type { ModelRecord } from '@impartial/shared/protocol';
import { html } from 'lit';
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
  train(options: { seconds?: number; steps?: number; learningRate: number; patch: number }): void;
  stop(): void;
  /** Makes a model version the current one (and predicts with it). */
  choose(model: string): void;
  predict(passes: number): void;
  flyTo(rect: { x: number; y: number; width: number; height: number }): void;
}

/** Budget and knobs, start/stop, live loss chart, model versions with lineage, and where to annotate next. */
export function trainingPanel(v: TrainingView, act: TrainingActions) {
  const num = (root: Element | null, name: string) =>
    Number((root?.querySelector(`[name=${name}]`) as HTMLInputElement | null)?.value);
  const start = (e: Event) => {
    const form = (e.target as HTMLElement).closest('details');
    const unit =
      (form?.querySelector('[name=unit]') as HTMLSelectElement | null)?.value === 'steps' ? 'steps' : 'seconds';
    act.train({ [unit]: num(form, 'budget'), learningRate: num(form, 'lr'), patch: num(form, 'patch') });
  };
  const byId = new Map(v.models.map((m) => [m.id, m]));
  return html`<details open><summary>Training</summary>
    <div class="row"><input name="budget" type="number" min="1" max="100000" value="60" title="training budget">
      <select name="unit" title="budget unit"><option value="seconds" selected>seconds</option><option value="steps">steps</option></select></div>
    <div class="row">
      <label>lr <input name="lr" type="number" step="0.0001" min="0.00001" max="0.01" value="0.0005"></label></div>
    <div class="row"><label>patch <input name="patch" type="number" min="32" max="256" step="32" value="128"></label>
      <label>MC passes <input name="passes" type="number" min="1" max="16" value="3"></label></div>
    <div class="row">${v.running ? html`<button @click=${act.stop}>Stop</button>` : html`<button @click=${start}>Train</button>`}
      <button @click=${(e: Event) => act.predict(num((e.target as HTMLElement).closest('details'), 'passes'))}>Predict</button></div>
    <div class="progress">${v.text}</div>
    ${lossChart(v.losses)}
    <div class="models">${v.models
      .slice()
      .reverse()
      .slice(0, 8)
      .map(
        (m) => html`<button class="model" aria-pressed=${m.id === v.current}
      title=${`make current and predict with it (strokes ${m.strokesHash})`} @click=${() => act.choose(m.id)}>
      ${m.id === v.current ? '●' : '○'} ${m.id.slice(0, 12)} · ${m.steps} steps · ${m.author}${m.parent ? html`<br><small>fine-tuned from ${byId.has(m.parent) ? m.parent.slice(0, 12) : 'an earlier version'}</small>` : ''}</button>`,
      )}</div>
    ${
      v.suggestions.length
        ? html`<div>Annotate next:</div>${v.suggestions.slice(0, 6).map(
            (s) => html`<button class="suggestion" @click=${() => act.flyTo(s)}>
      ${s.x},${s.y} · entropy ${s.entropy.toFixed(3)}</button>`,
          )}`
        : ''
    }
  </details>`;
}
