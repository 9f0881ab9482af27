import type { Rect } from './records.js';

/**
 * The middle `side` x `side` square of a rectangle (all of it where it is smaller): what a quick
 * prediction of a view covers, so a zoomed-out slide costs a few tiles, not all of them.
 */
export function middleOf(rect: Rect, side: number): Rect {
  const width = Math.min(rect.width, side),
    height = Math.min(rect.height, side);
  return {
    x: rect.x + Math.floor((rect.width - width) / 2),
    y: rect.y + Math.floor((rect.height - height) / 2),
    width,
    height,
  };
}
