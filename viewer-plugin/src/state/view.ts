import { middleOf, type Rect } from '@impartial/shared/protocol';

/** deck's orthographic camera: the image point at the centre; zoom, log2 of screen pixels per image pixel. */
export interface View {
  target: [number, number, number];
  zoom: number;
}

export interface Size {
  width: number;
  height: number;
}

/** What a deck viewport offers here: its size in screen pixels and screen-to-image mapping. */
export interface ScreenToImage {
  width: number;
  height: number;
  unproject(xy: number[]): number[];
}

/**
 * The closest zoom: 8 screen pixels per image pixel. Closer shows nothing new, only bigger squares,
 * and a person zooming with the wheel loses their place.
 */
export const MAX_ZOOM = 3;

/** The view with its zoom no closer than MAX_ZOOM. */
export function clampView(view: View): View {
  return view.zoom > MAX_ZOOM ? { ...view, zoom: MAX_ZOOM } : view;
}

// An element not laid out yet (zero size) still gets a usable view.
const widthOf = (box: Size) => box.width || 800;
const heightOf = (box: Size) => box.height || 600;

/** The whole image in the element, centred in the part that the side panel (`sideWidth`, 0: none) leaves free. */
export function fitView(image: Size, box: Size, sideWidth: number): View {
  const covered = sideWidth ? sideWidth + 12 : 0;
  const free = Math.max(100, widthOf(box) - covered);
  const zoom = Math.log2(Math.min(free / image.width, heightOf(box) / image.height));
  // Shift the target right by half the covered width (in image pixels), so the image sits in the free part.
  return { target: [image.width / 2 + covered / 2 / 2 ** zoom, image.height / 2, 0], zoom };
}

/** A rectangle of the image (a suggested tile) centred and zoomed to fit, with a little room around it. */
export function viewOfRect(r: Rect, box: Size): View {
  return clampView({
    target: [r.x + r.width / 2, r.y + r.height / 2, 0],
    zoom: Math.log2(Math.min(widthOf(box) / r.width, heightOf(box) / r.height)) - 0.3,
  });
}

/** The part of the image on screen, in whole level-0 pixels; undefined when none of it is. */
export function visibleRect(viewport: ScreenToImage, image: Size): Rect | undefined {
  const [x0, y0] = viewport.unproject([0, 0]) as [number, number];
  const [x1, y1] = viewport.unproject([viewport.width, viewport.height]) as [number, number];
  const x = Math.max(0, Math.floor(x0)),
    y = Math.max(0, Math.floor(y0));
  const width = Math.min(image.width, Math.ceil(x1)) - x,
    height = Math.min(image.height, Math.ceil(y1)) - y;
  return width > 0 && height > 0 ? { x, y, width, height } : undefined;
}

/** The widest side (level-0 pixels) of a first look: a zoomed-out slide gets the middle of its view predicted. */
export const FIRST_LOOK_SIDE = 1024;

/** The part of a visible rectangle a first look predicts: all of it, or its middle FIRST_LOOK_SIDE square. */
export function firstLookRect(visible: Rect): Rect {
  return middleOf(visible, FIRST_LOOK_SIDE);
}

/** Where a pointer is on the image (level-0 pixels to 1/100), from its position over the stage. */
export function pointerOnImage(
  viewport: ScreenToImage,
  pointer: { clientX: number; clientY: number },
  stage: { left: number; top: number },
): [number, number] {
  const [x, y] = viewport.unproject([pointer.clientX - stage.left, pointer.clientY - stage.top]) as [number, number];
  return [Math.round(x * 100) / 100, Math.round(y * 100) / 100];
}
