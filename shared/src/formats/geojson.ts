import type { Polygon } from '../image/rasterize.js';

/** A GeoJSON FeatureCollection of cell outlines in pixel coordinates (QuPath's convention: x right, y down). */
export function outlinesToGeoJson(
  outlines: ReadonlyMap<number, Polygon>,
  properties: (label: number) => Record<string, unknown> = () => ({}),
) {
  return {
    type: 'FeatureCollection' as const,
    features: [...outlines].map(([label, polygon]) => ({
      type: 'Feature' as const,
      id: label,
      geometry: {
        type: 'Polygon' as const,
        coordinates: [[...polygon.map((p) => [p[0], p[1]]), [polygon[0]![0], polygon[0]![1]]]],
      },
      properties: { objectType: 'cell', label, ...properties(label) },
    })),
  };
}
