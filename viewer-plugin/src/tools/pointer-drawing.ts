import type { Drawing } from '@impartial/shared/protocol';
import type { ScribbleClass, ShownStroke } from '../layers/strokes.js';
import { pointerOnImage, type ScreenToImage } from '../state/view.js';

export type Tool = 'pan' | 'brush' | 'erase';

/** What drawing reads from the element: the tool, the brush, the palette and the zoom. */
export interface DrawingSettings {
  readonly tool: Tool;
  readonly strokeClass: number;
  readonly brushWidth: number;
  readonly classes: readonly ScribbleClass[];
  readonly view: { zoom: number };
}

export interface DrawingHooks {
  /** The view of the image to draw on; none before the first frame. */
  viewport(): ScreenToImage | undefined;
  /** The DOM circle that shows the brush's footprint. */
  brushCursor(): HTMLElement | null;
  /** The stroke under the pointer changed: draw it. */
  changed(): void;
  /** A stroke is complete: send it. */
  finished(drawing: Drawing): void;
}

// Closer points than this (image pixels) add nothing to a stroke.
const MIN_STEP = 0.5;

/** Brush and eraser strokes from pointer events on the stage: down starts one, moves extend it, up sends it. */
export class PointerDrawing {
  private points: Array<[number, number]> | null = null;

  constructor(
    private readonly settings: DrawingSettings,
    private readonly hooks: DrawingHooks,
  ) {}

  /** The stroke being drawn, as the layers show it; null between strokes. */
  get stroke(): ShownStroke | null {
    return this.points ? this.drawing(this.points) : null;
  }

  readonly down = (e: PointerEvent): void => {
    if (this.settings.tool === 'pan') return;
    const p = this.toImage(e);
    if (!p) return;
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    this.points = [p];
    this.hooks.changed();
  };

  readonly move = (e: PointerEvent): void => {
    this.showBrush(e);
    if (!this.points) return;
    const p = this.toImage(e);
    const last = this.points.at(-1)!;
    if (p && Math.hypot(p[0] - last[0], p[1] - last[1]) >= MIN_STEP) {
      this.points.push(p);
      this.hooks.changed();
    }
  };

  readonly up = (): void => {
    if (!this.points) return;
    const drawing = this.drawing(this.points);
    this.points = null;
    this.hooks.finished(drawing);
  };

  readonly leave = (): void => {
    const cursor = this.hooks.brushCursor();
    if (cursor) cursor.hidden = true;
  };

  private toImage(e: PointerEvent): [number, number] | null {
    const viewport = this.hooks.viewport();
    return viewport ? pointerOnImage(viewport, e, (e.currentTarget as HTMLElement).getBoundingClientRect()) : null;
  }

  private drawing(points: Array<[number, number]>): Drawing & ShownStroke {
    const s = this.settings;
    return { op: s.tool === 'erase' ? 'erase' : 'add', class: s.strokeClass, width: s.brushWidth, points };
  }

  /** The brush's footprint under the pointer (a DOM circle: no extra draw pass). */
  private showBrush(e: PointerEvent): void {
    const cursor = this.hooks.brushCursor();
    if (!cursor) return;
    const s = this.settings;
    cursor.hidden = s.tool === 'pan';
    if (cursor.hidden) return;
    const r = (e.currentTarget as HTMLElement).getBoundingClientRect();
    const d = Math.max(3, s.brushWidth * 2 ** s.view.zoom);
    const color = s.classes.find((c) => c.id === s.strokeClass)?.color ?? [255, 255, 255];
    Object.assign(cursor.style, {
      width: `${d}px`,
      height: `${d}px`,
      left: `${e.clientX - r.left - d / 2}px`,
      top: `${e.clientY - r.top - d / 2}px`,
      borderColor: s.tool === 'erase' ? '#fff' : `rgb(${color.join(',')})`,
    });
  }
}
