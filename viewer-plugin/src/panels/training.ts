import { INFERENCE_DEFAULTS, type ModelRecord, TRAINING_DEFAULTS } from '@impartial/shared/protocol';
import { html } from 'lit';
import { lossChart } from './loss-chart.js';

export interface TrainingView {
  running: boolean;
  /** A live training runs: it takes in strokes as they are drawn and predicts the view again and again. */
  live: boolean;
  text: string;
  losses: Array<{ step: number; loss: number }>;
  models: ModelRecord[];
  current: string | null;
  suggestions: Array<{ x: number; y: number; width: number; height: number; entropy: number }>;
}

export interface TrainingActions {
  train(options: { seconds?: number; steps?: number; learningRate: number; patch: number; init?: 'current' }): void;
  stop(): void;
  /** Live mode on (a training that keeps running while people draw) or off (it ends and saves its version). */
  live(on: boolean, options: { learningRate: number; patch: number }): void;
  /** Makes a model version the current one (and predicts with it). */
  choose(model: string): void;
  /** Predicts with `passes` mirrored views, each sampling dropout when `dropout` (Monte-Carlo dropout). */
  predict(passes: number, dropout: boolean): void;
  flyTo(rect: { x: number; y: number; width: number; height: number }): void;
}

/** An input of the panel (in the `details` around the clicked button). */
const inputOf = (e: Event, name: string) =>
  (e.target as HTMLElement).closest('details')?.querySelector<HTMLInputElement>(`[name=${name}]`);
const fieldOf = (e: Event, name: string) => Number(inputOf(e, name)?.value);
const checkedOf = (e: Event, name: string) => inputOf(e, name)?.checked === true;

/** Training budget (seconds or steps), learning rate, patch size, inference passes (mirrored views), MC dropout. */
const knobs = html`<div class="row">
    <input name="budget" type="number" min="1" max="100000" value=${TRAINING_DEFAULTS.seconds} title="training budget">
    <select name="unit" title="budget unit">
      <option value="seconds" selected>seconds</option><option value="steps">steps</option></select></div>
  <div class="row">
    <label title="Adam's step size; a budgeted training lets it fall to a twentieth by the end">lr
      <input name="lr" type="number" step="0.0001" min="0.00001" max="0.01" value=${TRAINING_DEFAULTS.learningRate}>
    </label></div>
  <div class="row"><label>patch
      <input name="patch" type="number" min="32" max="256" step="32" value=${TRAINING_DEFAULTS.patch}></label>
    <label>Passes <input name="passes" type="number" min="1" max="16" value=${INFERENCE_DEFAULTS.passes}></label></div>
  <div class="row"><label title="sample dropout in every pass: ImPartial's Monte-Carlo dropout uncertainty, noisier">
    <input name="mc-dropout" type="checkbox"> MC dropout</label></div>`;

function buttons(v: TrainingView, act: TrainingActions) {
  const start = (e: Event) => {
    const unitField = (e.target as HTMLElement).closest('details')?.querySelector<HTMLSelectElement>('[name=unit]');
    const unit = unitField?.value === 'steps' ? 'steps' : 'seconds';
    act.train({ [unit]: fieldOf(e, 'budget'), learningRate: fieldOf(e, 'lr'), patch: fieldOf(e, 'patch') });
  };
  const trainOrStop = v.running
    ? html`<button @click=${act.stop}>Stop</button>`
    : html`<button @click=${start}>Train</button>`;
  const live = (e: Event) =>
    act.live((e.target as HTMLInputElement).checked, { learningRate: fieldOf(e, 'lr'), patch: fieldOf(e, 'patch') });
  return html`<div class="row">${trainOrStop}
    <button @click=${(e: Event) => act.predict(fieldOf(e, 'passes'), checkedOf(e, 'mc-dropout'))}>Predict</button>
    <label title="keep training while you draw; the view's prediction follows every few seconds">
      <input name="live" type="checkbox" .checked=${v.live} ?disabled=${v.running && !v.live} @change=${live}>
      live</label></div>`;
}

/** Where a version comes from: its parent version here, a shared model, the shipped starting model. */
function originOf(m: ModelRecord, known: ReadonlySet<string>): string {
  if (!m.parent) return '';
  if (known.has(m.parent)) return `fine-tuned from ${m.parent.slice(0, 12)}`;
  if (m.catalogue) return 'a copy of a shared model';
  // The bridge adds the shipped model to a project as a version by "generic" (ModelService.forChannels).
  if (m.author === 'generic') return 'the shipped starting model';
  return 'fine-tuned from an earlier version';
}

/** A model version: pressed when current; click makes it current. Where it comes from. */
function modelButton(m: ModelRecord, v: TrainingView, known: ReadonlySet<string>, act: TrainingActions) {
  const origin = originOf(m, known);
  return html`<button class="model" aria-pressed=${m.id === v.current}
    title=${`make current and predict with it (strokes ${m.strokesHash})`} @click=${() => act.choose(m.id)}>
    ${m.id === v.current ? '●' : '○'} ${m.id.slice(0, 12)} · ${m.steps} steps · ${m.author}${
      origin ? html`<br><small>${origin}</small>` : ''
    }</button>`;
}

function suggestions(v: TrainingView, act: TrainingActions) {
  if (!v.suggestions.length) return '';
  return html`<div>Annotate next:</div>${v.suggestions.slice(0, 6).map(
    (s) => html`<button class="suggestion" @click=${() => act.flyTo(s)}>
      ${s.x},${s.y} · entropy ${s.entropy.toFixed(3)}</button>`,
  )}`;
}

/** Budget and knobs, start/stop, live loss chart, model versions with lineage, and where to annotate next. */
export function trainingPanel(v: TrainingView, act: TrainingActions) {
  const known = new Set(v.models.map((m) => m.id));
  const latest = v.models.slice().reverse().slice(0, 8);
  return html`<details open><summary>Training</summary>
    ${knobs}
    ${buttons(v, act)}
    <div class="progress">${v.text}</div>
    ${lossChart(v.losses)}
    <div class="models">${latest.map((m) => modelButton(m, v, known, act))}</div>
    ${suggestions(v, act)}
  </details>`;
}
