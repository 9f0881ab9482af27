import { z } from 'zod';
import { ErrorCodeSchema } from './errors.js';
import {
  IdSchema,
  ImageRecordSchema,
  InferRequestSchema,
  JobRecordSchema,
  ModelRecordSchema,
  PredictionRecordSchema,
  RectSchema,
  TrainRequestSchema,
  ViewStateSchema,
} from './records.js';
import { DrawingSchema, LogEntrySchema, OutlineSchema } from './strokes.js';

/*
 * WebSocket messages (JSON text frames), one room per image. A client opens /ws, sends `hello`
 * naming the image, and gets `welcome` with the state. `ref` is the client's own tag for a
 * request; the answer (the echoed entry, or an error) carries it back.
 */

export const ClientKindSchema = z.enum(['viewer', 'fiji', 'script', 'monai']);

const Ref = z.string().max(100).optional();

export const ClientMessageSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('hello'),
      protocol: z.number().int(),
      client: ClientKindSchema,
      image: IdSchema,
      /** Shown as the author of this client's strokes. */
      name: z.string().min(1).max(100).optional(),
      /** Last log seq this client has seen: the welcome then carries only what came after. */
      since: z.number().int().min(0).optional(),
    })
    .strict(),
  z.object({ type: z.literal('draw'), ref: Ref, drawing: DrawingSchema }).strict(),
  /** A closed cell outline; its strokes come back as entries carrying `ref`, undone and redone as one. */
  z.object({ type: z.literal('outline'), ref: Ref, outline: OutlineSchema }).strict(),
  /** Without a target: this client's author's latest drawing (undo) or latest undo (redo). */
  z.object({ type: z.literal('undo'), ref: Ref, target: z.number().int().positive().optional() }).strict(),
  z.object({ type: z.literal('redo'), ref: Ref, target: z.number().int().positive().optional() }).strict(),
  z.object({ type: z.literal('view'), view: ViewStateSchema }).strict(),
  z.object({ type: z.literal('train-start'), ref: Ref, options: TrainRequestSchema.optional() }).strict(),
  z.object({ type: z.literal('train-stop'), ref: Ref, job: IdSchema.optional() }).strict(),
  z
    .object({ type: z.literal('infer'), ref: Ref, request: InferRequestSchema.omit({ image: true }).optional() })
    .strict(),
  z.object({ type: z.literal('ping'), t: z.number().optional() }).strict(),
]);
export type ClientMessage = z.infer<typeof ClientMessageSchema>;

export const TileScoreSchema = RectSchema.extend({ entropy: z.number() });

export const ServerMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('welcome'),
    protocol: z.number().int(),
    server: z.string(),
    clientId: z.string(),
    image: ImageRecordSchema,
    /** The log's latest seq, and its entries after the hello's `since` (all when none). */
    seq: z.number().int(),
    entries: z.array(LogEntrySchema),
    models: z.array(ModelRecordSchema),
    currentModel: z.string().nullable(),
    jobs: z.array(JobRecordSchema),
    prediction: PredictionRecordSchema.nullable(),
    views: z.array(z.object({ clientId: z.string(), name: z.string(), view: ViewStateSchema })),
  }),
  /** A new log entry; `ref` is set only for the client that sent it (its acknowledgement). */
  z.object({ type: z.literal('entry'), entry: LogEntrySchema, ref: Ref }),
  z.object({ type: z.literal('view'), clientId: z.string(), name: z.string(), view: ViewStateSchema }),
  z.object({ type: z.literal('job'), job: JobRecordSchema, ref: Ref }),
  z.object({
    type: z.literal('train-progress'),
    job: IdSchema,
    step: z.number().int(),
    steps: z.number().int().nullable(),
    elapsedSeconds: z.number(),
    loss: z.number(),
    lossForeground: z.number(),
    lossBackground: z.number(),
    lossReconstruction: z.number(),
    stepsPerSecond: z.number(),
    etaSeconds: z.number(),
  }),
  z.object({ type: z.literal('model'), model: ModelRecordSchema, current: z.boolean() }),
  z.object({ type: z.literal('infer-progress'), job: IdSchema, done: z.number().int(), total: z.number().int() }),
  /** Level-0 rectangles of the prediction that changed: refresh only those. */
  z.object({
    type: z.literal('tiles'),
    job: IdSchema,
    prediction: PredictionRecordSchema,
    tiles: z.array(RectSchema),
    /**
     * A live training's refresh: after `step` steps, with the image's strokes up to log entry `strokes`
     * in its training data.
     */
    live: z.object({ step: z.number().int().min(0), strokes: z.number().int().min(0) }).optional(),
  }),
  /** Where to annotate next: tiles of this image and images of the project, highest mean entropy first. */
  z.object({
    type: z.literal('suggestions'),
    job: IdSchema,
    model: IdSchema,
    tiles: z.array(TileScoreSchema),
    images: z.array(z.object({ image: IdSchema, name: z.string(), entropy: z.number() })),
  }),
  /** Who is on the image now (every connected viewer and script), sent to all of them when it changes. */
  z.object({
    type: z.literal('presence'),
    clients: z.array(z.object({ clientId: z.string(), name: z.string(), kind: z.string() })),
  }),
  /** A multi-user bridge's work session of this project: expires soon (extend it), or ended (its compute freed). */
  z.object({
    type: z.literal('session'),
    session: IdSchema,
    state: z.enum(['expiring', 'ended']),
    expires: z.string(),
  }),
  z.object({ type: z.literal('error'), code: ErrorCodeSchema, message: z.string(), ref: Ref }),
  z.object({ type: z.literal('pong'), t: z.number().optional(), server: z.number() }),
]);
export type ServerMessage = z.infer<typeof ServerMessageSchema>;
