import { PathLayer } from '@deck.gl/layers';

export interface ShownStroke { op: 'add' | 'erase'; class: number; width: number; points: ReadonlyArray<readonly [number, number]> }

/** Class colours: 1 cell (green), 2 background (magenta), more classes from a palette. */
export const CLASS_COLORS: Array<[number, number, number]> = [[255, 255, 255], [0, 230, 64], [240, 0, 240], [255, 170, 0], [0, 170, 255], [255, 80, 80]];

/** Strokes in effect, drawn with their brush width in image pixels; erasures dark. */
export function strokeLayer(id: string, strokes: readonly ShownStroke[], visible = true, opacity = 0.85) {
  return new PathLayer<ShownStroke>({
    id, visible, data: strokes as ShownStroke[], pickable: false, opacity, capRounded: true, jointRounded: true,
    widthUnits: 'common', widthMinPixels: 1.5,
    getPath: (d) => (d.points.length > 1 ? d.points : [d.points[0]!, [d.points[0]![0] + 0.01, d.points[0]![1]]]) as never,
    getWidth: (d) => d.width,
    getColor: (d) => (d.op === 'erase' ? [40, 40, 40, 200] : [...(CLASS_COLORS[d.class] ?? [255, 255, 255]), 230]) as never,
    updateTriggers: { getPath: strokes.length, getColor: strokes.length },
  });
}
