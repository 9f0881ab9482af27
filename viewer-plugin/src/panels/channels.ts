import { html } from 'lit';
import type { ChannelSetting } from '../layers/image.js';

/** What the channel panel shows and sets. */
export interface ChannelsTarget {
  channels: ChannelSetting[];
  /** The channels the model reads, chosen apart from those shown. */
  trainChannels: Set<number>;
  autoContrast(): Promise<void>;
  redraw(): void;
  requestUpdate(): void;
  /** Tells the page that a person changed the display (a host that frames the viewer follows it). */
  channelsChanged(): void;
}

// Viv draws at most this many channels at once.
const MAX_SHOWN = 6;

const toHex = (c: readonly number[]) => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
const fromHex = (h: string): [number, number, number] =>
  [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)) as [number, number, number];
const inputValue = (e: Event) => (e.target as HTMLInputElement).value;

function change(v: ChannelsTarget, index: number, patch: Partial<ChannelSetting>): void {
  v.channels = v.channels.map((c) => (c.index === index ? { ...c, ...patch } : c));
  v.redraw();
  v.requestUpdate();
  v.channelsChanged();
}

/** Adds a channel to those the model reads, or takes it out (the model reads one at least). */
function toggleTraining(v: ChannelsTarget, index: number): void {
  const next = new Set(v.trainChannels);
  if (!next.has(index)) next.add(index);
  else if (next.size > 1) next.delete(index);
  v.trainChannels = next;
  v.requestUpdate();
}

/** A slider for the lower (0) or upper (1) contrast limit; it pushes the other limit along. */
function limit(v: ChannelsTarget, c: ChannelSetting, which: 0 | 1) {
  const set = (e: Event) => {
    const x = Number(inputValue(e));
    change(v, c.index, { window: which ? [Math.min(c.window[0], x), x] : [x, Math.max(c.window[1], x)] });
  };
  return html`<input type="range" min=${c.domain[0]} max=${c.domain[1]} step=${(c.domain[1] - c.domain[0]) / 200 || 1}
    .value=${String(c.window[which])} title=${which ? 'upper contrast limit' : 'lower contrast limit'} @input=${set}>`;
}

function channelRows(v: ChannelsTarget, c: ChannelSetting, shown: number, training: boolean) {
  const recolour = (e: Event) => change(v, c.index, { color: fromHex(inputValue(e)) });
  const show = (e: Event) => change(v, c.index, { visible: (e.target as HTMLInputElement).checked });
  const trained = html`<label title="the model reads this channel"><input type="checkbox"
    .checked=${v.trainChannels.has(c.index)} @change=${() => toggleTraining(v, c.index)}>T</label>`;
  return html`<div class="row">
      <label><input type="checkbox" .checked=${c.visible} ?disabled=${!c.visible && shown >= MAX_SHOWN}
        @change=${show}> ${c.name}</label>
      ${training ? trained : ''}
      <input type="color" .value=${toHex(c.color)} @input=${recolour}>
    </div><div class="row limits">${limit(v, c, 0)}${limit(v, c, 1)}</div>`;
}

/**
 * Channel list: visibility (at most 6 shown), colour, lower and upper contrast limits, and
 * auto-contrast; with `training` (a bridge), which channels the model reads (T), chosen apart from those shown.
 */
export function channelPanel(v: ChannelsTarget, training: boolean) {
  const shown = v.channels.filter((c) => c.visible).length;
  const trained = training ? '; T = trained on' : '';
  const title = `Channels (${shown} of ${v.channels.length} shown, ${MAX_SHOWN} at most${trained})`;
  return html`<details open><summary>${title}</summary>
    ${v.channels.map((c) => channelRows(v, c, shown, training))}
    <button @click=${() => void v.autoContrast()}>Auto contrast</button></details>`;
}
