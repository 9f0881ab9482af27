import { html } from 'lit';
import type { LabelStyle } from '../layers/overlay-pixels.js';
import type { LayerSettings } from '../layers/settings.js';

/** What the layers panel shows and sets. */
export interface LayersTarget {
  readonly layers: LayerSettings;
  /** Follow other viewers' view and layers (offered with a bridge client). */
  follow: boolean;
  readonly client: object | null;
  setLayers(settings: Partial<LayerSettings>): void;
}

const checked = (e: Event) => (e.target as HTMLInputElement).checked;
const numberOf = (e: Event) => Number((e.target as HTMLInputElement).value);

/** A layer's show/hide box, and for the prediction and entropy its opacity. */
function layerRow(name: 'strokes' | 'prediction' | 'entropy', v: LayersTarget) {
  const show = html`<label><input type="checkbox" .checked=${v.layers[name]}
    @change=${(e: Event) => v.setLayers({ [name]: checked(e) })}> ${name}</label>`;
  if (name === 'strokes') return html`<div class="row">${show}</div>`;
  const key = name === 'prediction' ? 'predictionOpacity' : 'entropyOpacity';
  return html`<div class="row">${show}
    <input type="range" min="0" max="1" step="0.05" .value=${String(v.layers[key])} title="opacity"
      @input=${(e: Event) => v.setLayers({ [key]: numberOf(e) })}></div>`;
}

function cellStyleRow(v: LayersTarget) {
  const pick = (e: Event) => v.setLayers({ labelStyle: (e.target as HTMLSelectElement).value as LabelStyle });
  const options = (['both', 'fill', 'outline'] as const).map(
    (s) =>
      html`<option value=${s} ?selected=${v.layers.labelStyle === s}>${s === 'both' ? 'fill + outline' : s}</option>`,
  );
  return html`<div class="row"><label>cells as <select @change=${pick}>${options}</select></label></div>`;
}

function followRow(v: LayersTarget) {
  const change = (e: Event) => {
    v.follow = checked(e);
  };
  return html`<div class="row"><label><input type="checkbox" .checked=${v.follow} @change=${change}>
    follow other viewers (and Fiji)</label></div>`;
}

/** Layers: strokes, prediction and entropy shown or not and their opacity, how cells look, the entropy floor. */
export function layersPanel(v: LayersTarget) {
  const floor = (e: Event) => v.setLayers({ entropyLow: numberOf(e) });
  return html`<details open><summary>Layers</summary>
    ${(['strokes', 'prediction', 'entropy'] as const).map((name) => layerRow(name, v))}
    ${cellStyleRow(v)}
    <div class="row"><label>entropy from <input type="range" min="0" max="0.6" step="0.01"
      .value=${String(v.layers.entropyLow)} @input=${floor}></label></div>
    ${v.client ? followRow(v) : ''}
  </details>`;
}
