import type { LayerSettings } from '../layers/settings.js';
import type { ScribbleClass } from '../layers/strokes.js';
import type { Tool } from './pointer-drawing.js';

/** What shortcuts act on. */
export interface ShortcutTarget {
  strokeClass: number;
  brushWidth: number;
  readonly classes: readonly ScribbleClass[];
  readonly layers: LayerSettings;
  /** The bridge; without one the element only views (no tools to pick, no layers to toggle). */
  readonly client: { undo(): void; redo(): void } | null;
  fitView(): void;
  setTool(tool: Tool): void;
  setLayers(settings: Partial<LayerSettings>): void;
  /** The polygon outline being placed, if any. */
  readonly outlineKeys: { readonly placing: boolean; close(): void; removeLast(): void; cancel(): void };
}

interface Shortcut {
  /** The key as `KeyboardEvent.key` gives it, lower case. */
  keys: readonly string[];
  /** With Ctrl (or Cmd); the browser's own action for the combination is prevented. */
  command?: boolean;
  /** Only with a bridge. */
  live?: boolean;
  /** Only while a polygon outline is being placed (other keys of the page keep their meaning otherwise). */
  placing?: boolean;
  run(target: ShortcutTarget, key: string, e: KeyboardEvent): void;
}

const toggle = (name: 'strokes' | 'prediction' | 'entropy') => (t: ShortcutTarget) =>
  t.setLayers({ [name]: !t.layers[name] });

/** The keyboard shortcuts, first match wins (the buttons' titles name them). */
export const SHORTCUTS: readonly Shortcut[] = [
  { keys: ['z'], command: true, run: (t, _k, e) => (e.shiftKey ? t.client?.redo() : t.client?.undo()) },
  { keys: ['y'], command: true, run: (t) => t.client?.redo() },
  { keys: ['f'], run: (t) => t.fitView() },
  { keys: ['b'], live: true, run: (t) => t.setTool('brush') },
  { keys: ['e'], live: true, run: (t) => t.setTool('erase') },
  { keys: ['h'], live: true, run: (t) => t.setTool('pan') },
  { keys: ['o'], live: true, run: (t) => t.setTool('outline') },
  { keys: ['enter'], live: true, placing: true, run: (t) => t.outlineKeys.close() },
  { keys: ['backspace'], live: true, placing: true, run: (t) => t.outlineKeys.removeLast() },
  { keys: ['escape'], live: true, placing: true, run: (t) => t.outlineKeys.cancel() },
  {
    keys: ['1', '2', '3', '4', '5', '6', '7', '8', '9'],
    live: true,
    run: (t, k) => {
      const picked = t.classes[Number(k) - 1];
      if (!picked) return;
      t.strokeClass = picked.id;
      t.setTool('brush');
    },
  },
  {
    keys: ['['],
    live: true,
    run: (t) => {
      t.brushWidth = Math.max(1, t.brushWidth - 1);
    },
  },
  {
    keys: [']'],
    live: true,
    run: (t) => {
      t.brushWidth += 1;
    },
  },
  { keys: ['s'], live: true, run: toggle('strokes') },
  { keys: ['p'], live: true, run: toggle('prediction') },
  { keys: ['u'], live: true, run: toggle('entropy') },
];

/** Runs the shortcut a key press names, if any. Typing into a panel's fields is not a shortcut. */
export function runShortcut(target: ShortcutTarget, e: KeyboardEvent): void {
  if (e.composedPath().some((el) => el instanceof HTMLInputElement || el instanceof HTMLSelectElement)) return;
  const key = e.key.toLowerCase();
  const command = e.ctrlKey || e.metaKey;
  const shortcut = SHORTCUTS.find((s) => s.keys.includes(key) && (!s.command || command));
  if (!shortcut || (shortcut.live && !target.client) || (shortcut.placing && !target.outlineKeys.placing)) return;
  shortcut.run(target, key, e);
  if (shortcut.command || shortcut.placing) e.preventDefault();
}
