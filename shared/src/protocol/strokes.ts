import { z } from 'zod';

/*
 * The stroke log of one image is append-only. Drawing and erasing are entries; undo and redo are
 * entries that name the entry they switch off or on. The scribble raster is derived by replaying
 * the log, so nothing is ever rewritten and every client that replays the same log sees the same
 * raster.
 */

/** Longest stroke accepted, in points (a 4000-pixel freehand path at one point per pixel). */
export const MAX_STROKE_POINTS = 20_000;
/** Largest level-0 coordinate accepted (a whole-slide image is far smaller). */
export const MAX_COORDINATE = 1_000_000;
/** Brush widths in level-0 pixels. */
export const MAX_STROKE_WIDTH = 512;
/**
 * Pixels one stroke may cover at most (`strokeArea`: each segment's capsule, summed), which also
 * bounds what painting it costs. 64 Mi is a few seconds of the bridge's raster worker; a
 * person's stroke (hundreds of points, a brush of tens of pixels) covers well under 1 Mi.
 */
export const MAX_STROKE_PIXELS = 64 * 1024 * 1024;
/** Outlines one request may turn into strokes (an ImageJ ROI set of a whole field of cells). */
export const MAX_OUTLINES = 10_000;
/** Bounding box of one outline (a cell of ~700 px across at level 0); conversion costs area x diameter. */
export const MAX_OUTLINE_PIXELS = 512 * 1024;
/** Bounding boxes of all outlines of one request together. */
export const MAX_OUTLINES_PIXELS = 64 * 1024 * 1024;

export const PointSchema = z.tuple([
  z.number().finite().min(-MAX_COORDINATE).max(MAX_COORDINATE),
  z.number().finite().min(-MAX_COORDINATE).max(MAX_COORDINATE),
]);
export type Point = z.infer<typeof PointSchema>;

/** Scribble classes: 1 = cell (foreground), 2 = background; more classes may follow. */
export const StrokeClassSchema = z.number().int().min(1).max(255);

/** What a client draws: a path painted with a round brush of `width` pixels. */
export const DrawingSchema = z.object({
  op: z.enum(['add', 'erase']),
  /** Class painted by `add`; ignored by `erase`, which clears every class under the brush. */
  class: StrokeClassSchema.default(1),
  width: z.number().positive().max(MAX_STROKE_WIDTH),
  points: z.array(PointSchema).min(1).max(MAX_STROKE_POINTS),
});
export type Drawing = z.infer<typeof DrawingSchema>;

/**
 * A closed cell outline drawn by a client (lasso or polygon; the last point joins the first). The
 * bridge stores it as ImPartial reads outlines: the cell's skeleton and inner ring as cell strokes,
 * its border as background, all entries of one outline sharing the sender's `ref`.
 */
export const OutlineSchema = z.object({ points: z.array(PointSchema).min(3).max(MAX_STROKE_POINTS) });
export type Outline = z.infer<typeof OutlineSchema>;

const EntryBase = {
  /** Position in the image's log, assigned by the server (1, 2, 3, ...). */
  seq: z.number().int().positive(),
  author: z.string().max(200),
  /** Server time (ms since the epoch). */
  t: z.number(),
  /**
   * The sender's reference for a drawing: a draw sent again (after a lost acknowledgement) is
   * recognised by it. The drawings one request made (an outline's strokes) share it, and undo and
   * redo switch them off and on together.
   */
  ref: z.string().max(100).optional(),
};

export const LogEntrySchema = z.discriminatedUnion('op', [
  z.object({
    ...EntryBase,
    op: z.literal('add'),
    class: StrokeClassSchema,
    width: z.number().positive(),
    points: z.array(PointSchema),
  }),
  z.object({
    ...EntryBase,
    op: z.literal('erase'),
    class: StrokeClassSchema,
    width: z.number().positive(),
    points: z.array(PointSchema),
  }),
  z.object({ ...EntryBase, op: z.literal('undo'), target: z.number().int().positive() }),
  z.object({ ...EntryBase, op: z.literal('redo'), target: z.number().int().positive() }),
]);
export type LogEntry = z.infer<typeof LogEntrySchema>;
export type DrawEntry = Extract<LogEntry, { op: 'add' | 'erase' }>;

/** Draw entries that are in effect after replaying the log (undo switches one off, redo on again). */
export function activeDrawings(log: readonly LogEntry[]): DrawEntry[] {
  const draws = new Map<number, DrawEntry>();
  const active = new Set<number>();
  for (const e of log) {
    if (e.op === 'add' || e.op === 'erase') {
      draws.set(e.seq, e);
      active.add(e.seq);
    } else if (e.op === 'undo') active.delete(e.target);
    else if (draws.has(e.target)) active.add(e.target);
  }
  return [...draws.values()].filter((d) => active.has(d.seq)).sort((a, b) => a.seq - b.seq);
}

/**
 * The drawings switched off (undo) or on (redo) with `target`: every drawing by the same author made
 * by the same request (the same `ref`: an outline's strokes), that `op` changes, in log order.
 */
export function strokeGroup(log: readonly LogEntry[], target: number, op: 'undo' | 'redo'): number[] {
  const named = log.find((e) => e.seq === target);
  if (!named || (named.op !== 'add' && named.op !== 'erase') || named.ref === undefined) return [target];
  const active = new Set(activeDrawings(log).map((d) => d.seq));
  const changes = (seq: number) => seq === target || active.has(seq) === (op === 'undo');
  return log
    .filter((e) => (e.op === 'add' || e.op === 'erase') && e.author === named.author && e.ref === named.ref)
    .map((e) => e.seq)
    .filter(changes);
}

/**
 * The entry an author's undo switches off (their latest drawing still in effect) or redo switches
 * back on (the one their latest undo switched off, unless drawn over since), or null.
 */
export function undoRedoTarget(log: readonly LogEntry[], author: string, op: 'undo' | 'redo'): number | null {
  const active = new Set(activeDrawings(log).map((d) => d.seq));
  if (op === 'undo') {
    for (let i = log.length - 1; i >= 0; i--) {
      const e = log[i]!;
      if ((e.op === 'add' || e.op === 'erase') && e.author === author && active.has(e.seq)) return e.seq;
    }
    return null;
  }
  // Redo restores the latest of the author's undos still in effect, back to their last drawing.
  for (let i = log.length - 1; i >= 0; i--) {
    const e = log[i]!;
    if (e.author !== author) continue;
    if (e.op === 'add' || e.op === 'erase') break;
    if (e.op === 'undo' && !active.has(e.target)) return e.target;
  }
  return null;
}
