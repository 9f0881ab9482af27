import { html } from 'lit';
import type { ScribbleClass } from '../layers/strokes.js';
import type { Tool } from '../tools/pointer-drawing.js';

/** What the tool bar shows and sets. */
export interface ToolbarTarget {
  tool: Tool;
  strokeClass: number;
  brushWidth: number;
  readonly classes: readonly ScribbleClass[];
  readonly client: { undo(): void; redo(): void } | null;
  setTool(tool: Tool): void;
}

const MAX_BRUSH = 512;
const OUTLINE_TITLE =
  'outline a cell (O): drag around it, or click its corners and close on the first one, with a double click ' +
  'or Enter; Backspace takes a corner back, Escape drops it. The border becomes background, the inside cell.';

const button = (label: string, pressed: boolean, title: string, click: () => void) =>
  html`<button aria-pressed=${pressed} title=${title} @click=${click}>${label}</button>`;

/** One brush button per scribble class, in its colour; keys 1-9 pick them too. */
function classButtons(v: ToolbarTarget) {
  const pick = (c: ScribbleClass) => () => {
    v.strokeClass = c.id;
    v.setTool('brush');
  };
  return v.classes.map(
    (c, k) => html`<button aria-pressed=${v.tool === 'brush' && v.strokeClass === c.id}
      title=${`${c.name.toLowerCase()} brush (B, ${k + 1})`} @click=${pick(c)}><span class="swatch"
      style=${`background: rgb(${c.color.join(',')})`}></span>${c.name}</button>`,
  );
}

function brushSize(v: ToolbarTarget) {
  const change = (e: Event) => {
    const asked = Number((e.target as HTMLInputElement).value) || 1;
    v.brushWidth = Math.max(1, Math.min(MAX_BRUSH, asked));
  };
  return html`<label class="size" title="brush size in image pixels ([ and ])">size
    <input type="number" min="1" max=${MAX_BRUSH} .value=${String(v.brushWidth)} @change=${change}></label>`;
}

/**
 * The tool bar over the image: pan, and when `live` (with a bridge) a brush per class, the outline
 * tool, eraser, brush size, undo and redo.
 */
export function toolbar(v: ToolbarTarget, live: boolean) {
  const pan = button('Pan', v.tool === 'pan', 'pan and zoom (H)', () => v.setTool('pan'));
  if (!live) return html`<div class="bar">${pan}</div>`;
  return html`<div class="bar">${pan} ${classButtons(v)}
    ${button('Outline', v.tool === 'outline', OUTLINE_TITLE, () => v.setTool('outline'))}
    ${button('Eraser', v.tool === 'erase', 'eraser (E)', () => v.setTool('erase'))}
    ${brushSize(v)}
    ${button('Undo', false, 'Ctrl+Z', () => v.client?.undo())}
    ${button('Redo', false, 'Ctrl+Shift+Z', () => v.client?.redo())}</div>`;
}
