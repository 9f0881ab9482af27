/** Screen pixels of dark halo on each side of a stroke: strokes stay visible on any channel colour. */
export const HALO_PIXELS = 1.5;

/** Width of a stroke's halo in image pixels: the stroke's, plus HALO_PIXELS screen pixels each side at this zoom. */
export function haloWidth(strokeWidth: number, zoom: number): number {
  return strokeWidth + (2 * HALO_PIXELS) / 2 ** zoom;
}
