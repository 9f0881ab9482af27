import { html } from 'lit';
import type { ChannelSetting } from '../layers/image.js';

const toHex = (c: readonly number[]) => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
const fromHex = (h: string): [number, number, number] =>
  [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)) as [number, number, number];

/**
 * Channel list: visibility (at most 6 shown), colour, lower and upper contrast limits, and
 * auto-contrast; with a bridge, which channels the model reads (T), chosen apart from those shown.
 */
export function channelPanel(
  channels: readonly ChannelSetting[],
  change: (index: number, patch: Partial<ChannelSetting>) => void,
  auto: () => void,
  training: ReadonlySet<number> | null,
  toggleTraining: (index: number) => void,
) {
  const shown = channels.filter((c) => c.visible).length;
  const limit = (
    c: ChannelSetting,
    which: 0 | 1,
  ) => html`<input type="range" min=${c.domain[0]} max=${c.domain[1]} step=${(c.domain[1] - c.domain[0]) / 200 || 1}
    .value=${String(c.window[which])} title=${which ? 'upper contrast limit' : 'lower contrast limit'}
    @input=${(e: Event) => {
      const v = Number((e.target as HTMLInputElement).value);
      change(c.index, { window: which ? [Math.min(c.window[0], v), v] : [v, Math.max(c.window[1], v)] });
    }}>`;
  return html`<details open><summary>Channels (${shown} of ${channels.length} shown, 6 at most${training ? '; T = trained on' : ''})</summary>
    ${channels.map(
      (c) => html`<div class="row">
      <label><input type="checkbox" .checked=${c.visible} ?disabled=${!c.visible && shown >= 6} @change=${(e: Event) => change(c.index, { visible: (e.target as HTMLInputElement).checked })}> ${c.name}</label>
      ${training ? html`<label title="the model reads this channel"><input type="checkbox" .checked=${training.has(c.index)} @change=${() => toggleTraining(c.index)}>T</label>` : ''}
      <input type="color" .value=${toHex(c.color)} @input=${(e: Event) => change(c.index, { color: fromHex((e.target as HTMLInputElement).value) })}>
    </div><div class="row limits">${limit(c, 0)}${limit(c, 1)}</div>`,
    )}
    <button @click=${auto}>Auto contrast</button></details>`;
}
