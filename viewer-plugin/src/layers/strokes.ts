import { PathLayer } from '@deck.gl/layers';
import { HALO_PIXELS, haloWidth } from './halo.js';

export interface ShownStroke {
  op: 'add' | 'erase';
  class: number;
  width: number;
  points: ReadonlyArray<readonly [number, number]>;
}

/** A scribble class of the palette: its value in the stroke log, its name and colour. */
export interface ScribbleClass {
  id: number;
  name: string;
  color: [number, number, number];
}

/** ImPartial's two classes; hosts may add more (the engine trains on 1 and 2, others are kept as annotation). */
export const DEFAULT_CLASSES: ScribbleClass[] = [
  { id: 1, name: 'Cell', color: [0, 230, 64] },
  { id: 2, name: 'Background', color: [240, 0, 240] },
];

/** A stroke's path; a single point becomes a tiny segment, so it draws as a dot of its width. */
const pathOf = (d: ShownStroke) =>
  (d.points.length > 1 ? d.points : [d.points[0]!, [d.points[0]![0] + 0.01, d.points[0]![1]]]) as never;

/** Strokes in effect, drawn with their brush width in image pixels; erasures dark. */
export function strokeLayer(
  id: string,
  strokes: readonly ShownStroke[],
  classes: readonly ScribbleClass[],
  visible = true,
  opacity = 0.85,
) {
  const colors = new Map(classes.map((c) => [c.id, c.color]));
  return new PathLayer<ShownStroke>({
    id,
    visible,
    data: strokes as ShownStroke[],
    pickable: false,
    opacity,
    capRounded: true,
    jointRounded: true,
    widthUnits: 'common',
    widthMinPixels: 1.5,
    getPath: pathOf,
    getWidth: (d) => d.width,
    getColor: (d) =>
      (d.op === 'erase' ? [40, 40, 40, 200] : [...(colors.get(d.class) ?? [255, 255, 255]), 230]) as never,
    updateTriggers: { getPath: strokes.length, getColor: [strokes.length, classes] },
  });
}

/** A dark band under the strokes, HALO_PIXELS wider on each side at this zoom. */
export function strokeHaloLayer(id: string, strokes: readonly ShownStroke[], zoom: number, visible = true) {
  return new PathLayer<ShownStroke>({
    id,
    visible,
    data: strokes as ShownStroke[],
    pickable: false,
    opacity: 0.6,
    capRounded: true,
    jointRounded: true,
    widthUnits: 'common',
    widthMinPixels: 1.5 + 2 * HALO_PIXELS,
    getPath: pathOf,
    getWidth: (d) => haloWidth(d.width, zoom),
    getColor: [0, 0, 0, 255],
    updateTriggers: { getPath: strokes.length, getWidth: zoom },
  });
}

/**
 * The stroke being drawn, over its halo, as layers `{id}-halo-N` and `{id}-N` (N its points): new
 * layers on every point, since a path whose points change in place keeps its old attributes.
 */
export function drawingLayers(
  drawing: ShownStroke | null,
  classes: readonly ScribbleClass[],
  zoom: number,
  id = 'drawing',
) {
  const data = drawing ? [drawing] : [];
  const n = drawing?.points.length ?? 0;
  return [strokeHaloLayer(`${id}-halo-${n}`, data, zoom), strokeLayer(`${id}-${n}`, data, classes)];
}
