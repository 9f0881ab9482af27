import { z } from 'zod';
import { type Drawing, MAX_STROKE_POINTS, MAX_STROKE_WIDTH } from './strokes.js';

/*
 * Routes for the ImageJ/Fiji macro bridge. The macro language can only GET (and each
 * File.openUrlAsString sends the GET twice), parses `key=value` lines with List.setList, and opens
 * images by URLs that end in .tif. So every route is a GET, answers key=value lines, and is
 * idempotent: a repeated request (same `id`, or same cursor) changes nothing the second time.
 * The token goes in `?token=`.
 *
 * GET /fiji/projects                         count=N, projectK=id, project_nameK=name
 * GET /fiji/images?project=P                 count=N, then per image K: idK, nameK, widthK, heightK, channelsK
 * GET /fiji/hello?image=I                    protocol, image, name, width, height, channels, levels,
 *                                            cursor (the newest event; poll from here),
 *                                            image_url (.tif hyperstack of the finest level ImageJ can hold),
 *                                            scale (level-0 pixels per pixel of that TIFF)
 * GET /fiji/events?image=I&since=N&timeout=MS[&flush=1]
 *                                            the first event after cursor N as `seq=N+1`, `type=...` and its
 *                                            fields (below); an empty body when nothing came within timeout
 *                                            (<= 30000 ms). `type=reset` when N is from before a restart.
 * GET /fiji/stroke?image=I&id=ID&i=K&n=N&d=CHUNK&name=AUTHOR
 *                                            one chunk (<= 4000 characters) of a stroke serialised as
 *                                            `op|class|width|x,y;x,y;...` (op add, erase, or outline: a closed
 *                                            cell outline, stored as ImPartial reads it: skeleton and inner
 *                                            ring as cell strokes, the outline as background). Chunks are kept
 *                                            by (id, K); the stroke is added once when all N are in.
 *                                            Answers complete=0|1 and seq (the log entry) once complete.
 * GET /fiji/strokes?image=I                  the strokes in effect: count, cursor, then per stroke K: entryK, opK,
 *                                            classK, widthK, authorK, pointsK (what a client draws on linking)
 * GET /fiji/undo?image=I&id=ID&name=AUTHOR, /fiji/redo?...   the author's latest drawing / undo (an outline's
 *                                            strokes together)
 * GET /fiji/view?image=I&x=&y=&zoom=&channel=&slice=[&ax=&ay=&aw=&ah=]   this client's view (level-0)
 * GET /fiji/train?image=I&id=ID[&steps=N|&seconds=S]   starts training the image's project once per id
 * GET /fiji/stop?image=I&id=ID               cancels the project's training
 * GET /fiji/infer?image=I&id=ID              predicts the image with the current model
 * GET /fiji/images/I/L/image.tif             the image at pyramid level L as an ImageJ hyperstack
 * GET /fiji/predictions/I/MODEL/L/labels.tif | probability.tif | entropy.tif   a prediction at level L
 *
 * Event fields by type:
 *   stroke   entry, op (add|erase), class, width, author, points (x,y;x,y;...)
 *   undo     entry, target, author          redo   entry, target, author, and the target's op, class,
 *                                           width, points (so a client can draw it again)
 *   view     client, name, x, y, zoom, channel, slice
 *   job      job, kind, status, error       progress   job, step, steps, loss, eta
 *   prediction   model, level, labels_url, probability_url, entropy_url, cells
 *   session  session, state (expiring|ended), expires   (a multi-user bridge's work session)
 *
 * On a multi-user bridge (serve --users) a macro puts a personal access token in the path
 * (/t/TOKEN/fiji/...), and the file URLs it is given carry the same token.
 */

export const FIJI_CHUNK_CHARS = 4000;
export const FIJI_MAX_CHUNKS = 64;

/** A reply the macro reads with List.setList: one key=value per line, newlines in values flattened. */
export function keyValueLines(fields: Record<string, string | number | boolean | null | undefined>): string {
  return `${Object.entries(fields)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${k}=${String(v).replace(/[\r\n]+/g, ' ')}`)
    .join('\n')}\n`;
}

export const FijiStrokeChunkSchema = z.object({
  image: z.string(),
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,80}$/, 'id: 1-80 letters, digits, _ . or -'),
  i: z.coerce.number().int().min(0),
  n: z.coerce.number().int().min(1).max(FIJI_MAX_CHUNKS),
  d: z.string().max(FIJI_CHUNK_CHARS),
});

/** What a macro sends: a drawing, or a closed outline the bridge turns into ImPartial's strokes. */
export type FijiStroke = Omit<Drawing, 'op'> & { op: Drawing['op'] | 'outline' };

/** `op|class|width|x,y;x,y;...` -> a stroke; throws a message that names what is wrong. */
export function parseFijiStroke(text: string): FijiStroke {
  const parts = text.split('|');
  if (parts.length !== 4) throw new Error(`a stroke is op|class|width|x,y;x,y;... (got ${parts.length} fields)`);
  const [op, cls, width, pts] = parts as [string, string, string, string];
  if (op !== 'add' && op !== 'erase' && op !== 'outline')
    throw new Error(`stroke op must be add, erase or outline, got "${op.slice(0, 20)}"`);
  const c = Number(cls),
    w = Number(width);
  if (!Number.isInteger(c) || c < 1 || c > 255)
    throw new Error(`stroke class must be an integer 1-255, got "${cls.slice(0, 20)}"`);
  if (!(w > 0 && w <= MAX_STROKE_WIDTH))
    throw new Error(`stroke width must be in (0, ${MAX_STROKE_WIDTH}], got "${width.slice(0, 20)}"`);
  const points = pts
    .split(';')
    .filter((s) => s.length > 0)
    .map((p) => {
      const xy = p.split(',').map(Number);
      if (xy.length !== 2 || !xy.every(Number.isFinite)) throw new Error(`stroke point "${p.slice(0, 30)}" is not x,y`);
      return [xy[0]!, xy[1]!] as [number, number];
    });
  if (points.length === 0) throw new Error('a stroke needs at least one point');
  if (points.length > MAX_STROKE_POINTS) throw new Error(`a stroke has at most ${MAX_STROKE_POINTS} points`);
  if (op === 'outline' && points.length < 3) throw new Error('an outline needs at least 3 points');
  return { op, class: c, width: w, points };
}

/** A drawing as the events route sends it: `x,y;x,y;...` with at most 2 decimals. */
export function formatFijiPoints(points: ReadonlyArray<readonly [number, number]>): string {
  const f = (v: number) => String(Math.round(v * 100) / 100);
  return points.map(([x, y]) => `${f(x)},${f(y)}`).join(';');
}
