import { z } from 'zod';

/*
 * A host page and the viewer page in its frame (a Vitessce plugin view, any portal that frames the
 * viewer) talk with window.postMessage: the host sets the view and the channels' display, the
 * frame tells the host where a person moved the view and how they changed the channels. The view
 * is in level-0 pixels, zoom as deck.gl's log2 of screen pixels per image pixel; the host converts
 * its own units.
 */

/** Marks the messages of this protocol among whatever else a page posts. */
export const FRAME_PROTOCOL = 'impartial-frame/1';

export const FrameViewSchema = z.object({
  x: z.number().finite(),
  y: z.number().finite(),
  zoom: z.number().finite().min(-40).max(40),
});
export type FrameView = z.infer<typeof FrameViewSchema>;

/** One channel's display, by its index in the image; what is left out stays as it is. */
export const FrameChannelSchema = z.object({
  index: z.number().int().min(0).max(255),
  visible: z.boolean().optional(),
  color: z
    .tuple([z.number().int().min(0).max(255), z.number().int().min(0).max(255), z.number().int().min(0).max(255)])
    .optional(),
  window: z.tuple([z.number().finite(), z.number().finite()]).optional(),
});
export type FrameChannel = z.infer<typeof FrameChannelSchema>;

const message = <T extends z.ZodRawShape>(shape: T) => z.object({ protocol: z.literal(FRAME_PROTOCOL), ...shape });

/** From the host to the viewer page in its frame. */
export const HostToFrameSchema = z.discriminatedUnion('type', [
  message({ type: z.literal('view'), view: FrameViewSchema }),
  message({ type: z.literal('channels'), channels: z.array(FrameChannelSchema).max(256) }),
]);
export type HostToFrame = z.infer<typeof HostToFrameSchema>;

/** From the viewer page to its host. */
export const FrameToHostSchema = z.discriminatedUnion('type', [
  /** The image is open: its size, and its NGFF level-0 scale (physical units per pixel, x and y). */
  message({
    type: z.literal('ready'),
    image: z.object({
      width: z.number().int().positive(),
      height: z.number().int().positive(),
      channels: z.number().int().positive(),
      scale: z.tuple([z.number().positive(), z.number().positive()]),
    }),
  }),
  /** A person moved the view in the frame. */
  message({ type: z.literal('view'), view: FrameViewSchema }),
  /** A person changed the channels' display in the frame. */
  message({ type: z.literal('channels'), channels: z.array(FrameChannelSchema).max(256) }),
]);
export type FrameToHost = z.infer<typeof FrameToHostSchema>;

/**
 * Views closer than this are the same: a view set from the other side comes back within rounding,
 * and must not be sent again (each side would answer the other for ever).
 */
export const FRAME_VIEW_TOLERANCE = { pixels: 0.25, zoom: 0.001 };

export function sameFrameView(a: FrameView, b: FrameView): boolean {
  const t = FRAME_VIEW_TOLERANCE;
  return Math.abs(a.x - b.x) <= t.pixels && Math.abs(a.y - b.y) <= t.pixels && Math.abs(a.zoom - b.zoom) <= t.zoom;
}
