import type { Drawing } from '@impartial/shared/protocol';
import type { ScribbleClass, ShownStroke } from '../layers/strokes.js';
import { pointerOnImage, type ScreenToImage } from '../state/view.js';
import { type ImagePoint, OutlineShape } from './outline-shape.js';

/** Pan and zoom; paint a class; erase; outline a cell (lasso, or polygon by clicks). */
export type Tool = 'pan' | 'brush' | 'erase' | 'outline';

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
  /** An outline is closed: send it (its corners, at least 3). */
  outlined(points: ImagePoint[]): void;
}

// Closer points than this (image pixels) add nothing to a stroke.
const MIN_STEP = 0.5;

/**
 * Strokes from pointer events on the stage. Brush and eraser: down starts one, moves extend it, up
 * sends it. Outline: see `OutlineShape`.
 */
export class PointerDrawing {
  private points: Array<[number, number]> | null = null;
  private readonly outline = new OutlineShape();

  constructor(
    private readonly settings: DrawingSettings,
    private readonly hooks: DrawingHooks,
  ) {}

  /** The stroke being drawn, as the layers show it; null between strokes. */
  get stroke(): ShownStroke | null {
    const contour = this.settings.tool === 'outline' ? this.outline.shown : null;
    // An outline shows as a thin closed line in the cell class's colour.
    if (contour) return { op: 'add', class: 1, width: 1, points: contour };
    return this.points ? this.drawing(this.points) : null;
  }

  /** Whether a polygon outline is being placed (Enter, Escape and Backspace then act on it). */
  get placingOutline(): boolean {
    return this.settings.tool === 'outline' && this.outline.placing;
  }

  readonly down = (e: PointerEvent): void => {
    if (this.settings.tool === 'pan') return;
    const p = this.toImage(e);
    if (!p) return;
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    if (this.settings.tool === 'outline') this.outline.down(p);
    else this.points = [p];
    this.hooks.changed();
  };

  readonly move = (e: PointerEvent): void => {
    this.showBrush(e);
    if (this.settings.tool === 'outline') {
      const p = this.toImage(e);
      if (p) this.outline.move(p);
      if (p && this.outline.shown) this.hooks.changed();
      return;
    }
    if (!this.points) return;
    const p = this.toImage(e);
    const last = this.points.at(-1)!;
    if (p && Math.hypot(p[0] - last[0], p[1] - last[1]) >= MIN_STEP) {
      this.points.push(p);
      this.hooks.changed();
    }
  };

  readonly up = (e: PointerEvent): void => {
    if (this.settings.tool === 'outline') {
      const p = this.toImage(e);
      if (p) this.sendOutline(this.outline.up(p, 2 ** this.settings.view.zoom));
      return;
    }
    if (!this.points) return;
    const drawing = this.drawing(this.points);
    this.points = null;
    this.hooks.finished(drawing);
  };

  /** A double click closes the polygon being placed. */
  readonly doubleClick = (): void => this.closeOutline();

  /** Closes the polygon being placed and sends it (Enter). */
  closeOutline(): void {
    this.sendOutline(this.outline.close());
  }

  /** Takes back the polygon's last corner (Backspace). */
  removeOutlineCorner(): void {
    this.outline.removeLast();
    this.hooks.changed();
  }

  /** Drops the outline or stroke being drawn (Escape, or another tool picked). */
  cancel(): void {
    this.outline.cancel();
    this.points = null;
    this.hooks.changed();
  }

  private sendOutline(points: ImagePoint[] | null): void {
    if (points) this.hooks.outlined(points);
    this.hooks.changed();
  }

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
    // The outline tool draws a thin line: the page's crosshair cursor shows where, no footprint.
    cursor.hidden = s.tool === 'pan' || s.tool === 'outline';
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
