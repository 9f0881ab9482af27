import { z } from 'zod';
import { InferenceSettingsSchema, TrainingSettingsSchema, withoutDefaults } from './settings.js';

/* What the bridge stores, as REST and WebSocket messages carry it. */

export const IdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'ids are 1-64 letters, digits, _ or -');

/** A rectangle in level-0 pixels. */
export const RectSchema = z.object({
  x: z.number().int().min(0),
  y: z.number().int().min(0),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
});
export type Rect = z.infer<typeof RectSchema>;

export const ProjectRecordSchema = z.object({
  id: IdSchema,
  name: z.string(),
  created: z.string(),
  currentModel: z.string().nullable(),
  /** The account that owns it and the group it is shared in (multi-user bridges; absent otherwise). */
  owner: z.string().nullable().optional(),
  group: z.string().nullable().optional(),
});
export type ProjectRecord = z.infer<typeof ProjectRecordSchema>;

export const ImageRecordSchema = z.object({
  id: IdSchema,
  project: IdSchema,
  name: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  channels: z.number().int(),
  channelNames: z.array(z.string()),
  dtype: z.string(),
  levels: z.number().int(),
  /** Where the OME-Zarr pyramid is served (relative to the bridge). */
  url: z.string(),
  created: z.string(),
});
export type ImageRecord = z.infer<typeof ImageRecordSchema>;

export const ModelRecordSchema = z.object({
  id: IdSchema,
  project: IdSchema,
  parent: z.string().nullable(),
  created: z.string(),
  author: z.string(),
  channels: z.array(z.string()),
  steps: z.number().int(),
  trainSeconds: z.number(),
  /** Hash of the stroke logs the model was trained on (which annotations made it). */
  strokesHash: z.string(),
  metrics: z.record(z.string(), z.number()),
  /** Everyone who trained along its chain, oldest first. */
  authors: z.array(z.string()).optional(),
  /** The catalogue entry it descends from, if any. */
  catalogue: z.string().optional(),
});
export type ModelRecord = z.infer<typeof ModelRecordSchema>;

export const JobStatusSchema = z.enum(['queued', 'running', 'done', 'failed', 'cancelled']);
export type JobStatus = z.infer<typeof JobStatusSchema>;

export const JobRecordSchema = z.object({
  id: IdSchema,
  project: IdSchema,
  kind: z.enum(['train', 'infer']),
  status: JobStatusSchema,
  image: z.string().nullable(),
  created: z.string(),
  updated: z.string(),
  progress: z.record(z.string(), z.number()),
  error: z.string().nullable(),
  result: z.record(z.string(), z.unknown()).nullable(),
  /** Who started it (an account name on multi-user bridges). */
  author: z.string().nullable().optional(),
});
export type JobRecord = z.infer<typeof JobRecordSchema>;

/** An image being written into the datastore (an upload, a path or URL, the demo slide): rows of level 0 done. */
export const ImportRecordSchema = z.object({
  id: IdSchema,
  project: IdSchema,
  name: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  channels: z.number().int(),
  rowsDone: z.number().int(),
  rows: z.number().int(),
  status: z.enum(['running', 'done', 'failed']),
  error: z.string().nullable(),
  started: z.string(),
  finished: z.string().nullable(),
});
export type ImportRecord = z.infer<typeof ImportRecordSchema>;

export const PredictionRecordSchema = z.object({
  image: IdSchema,
  model: IdSchema,
  status: z.enum(['partial', 'complete']),
  /** OME-Zarr with channels probability and entropy, and labels/instances. */
  url: z.string(),
  cells: z.number().int().nullable(),
  meanEntropy: z.number().nullable(),
  created: z.string(),
});
export type PredictionRecord = z.infer<typeof PredictionRecordSchema>;

/** What a live training predicts again and again: a view of one image (clients' views move it later). */
export const LiveRequestSchema = z
  .object({
    image: IdSchema,
    /** The view to refresh (level-0 pixels); its middle 1024 x 1024 at most. Default: the image's middle. */
    viewport: RectSchema.optional(),
    /** Seconds between refreshes of the view's prediction (default 3). */
    refreshSeconds: z.number().min(0.5).max(600).optional(),
  })
  .strict();
export type LiveRequest = z.infer<typeof LiveRequestSchema>;

/** Training a client asks for: any setting may be left out (its default then applies), plus what to train on. */
export const TrainRequestSchema = z
  .object(withoutDefaults(TrainingSettingsSchema.omit({ weightDecay: true }).shape))
  .extend({
    steps: z.number().int().positive().max(1_000_000).optional(),
    /** Start from the project's current model (default when there is one), the generic model, or random weights. */
    init: z.enum(['current', 'generic', 'scratch']).optional(),
    /** Wait behind a running training instead of being refused with 409. */
    queue: z.boolean().optional(),
    /** Indices of the image channels the model reads (default: all, in file order); chosen apart from those shown. */
    channels: z
      .array(z.number().int().min(0).max(255))
      .min(1)
      .max(64)
      .refine((c) => new Set(c).size === c.length, 'channels must not repeat')
      .optional(),
    /** Images to train on (default: every image of the project with strokes). */
    images: z.array(IdSchema).max(1000).optional(),
    /**
     * Live mode: the training keeps running (until stopped, or its time budget), new strokes join it
     * as they are drawn, and the prediction of `image`'s view is refreshed from its latest weights.
     */
    live: LiveRequestSchema.optional(),
  })
  .strict();
export type TrainRequest = z.infer<typeof TrainRequestSchema>;

export const InferRequestSchema = z
  .object(withoutDefaults(InferenceSettingsSchema.omit({ overlap: true }).shape))
  .extend({
    image: IdSchema,
    /** Model version (default: the project's current model). */
    model: IdSchema.optional(),
    /** Computed and published first (level-0 pixels). */
    viewport: RectSchema.optional(),
    /** Only the tiles that meet `viewport` (a first look at a large image; needs `viewport`). */
    viewportOnly: z.boolean().optional(),
    threshold: z.number().min(0).max(1).optional(),
  })
  .strict();
export type InferRequest = z.infer<typeof InferRequestSchema>;

/** The view of one client, for follow mode. */
export const ViewStateSchema = z.object({
  /** Centre in level-0 pixels and zoom as log2 of screen pixels per image pixel (deck.gl's). */
  x: z.number().finite(),
  y: z.number().finite(),
  zoom: z.number().finite().min(-40).max(40),
  channel: z.number().int().min(0).optional(),
  slice: z.number().int().min(0).optional(),
  /** Visible channels and their display, by index. */
  channels: z
    .array(
      z.object({
        index: z.number().int().min(0),
        visible: z.boolean(),
        color: z.string().max(16).optional(),
        window: z.tuple([z.number(), z.number()]).optional(),
      }),
    )
    .max(64)
    .optional(),
  layers: z
    .record(z.string().max(40), z.object({ visible: z.boolean(), opacity: z.number().min(0).max(1) }))
    .optional(),
  /** Visible area in level-0 pixels, when the client knows it (Fiji does). */
  area: RectSchema.optional(),
});
export type ViewState = z.infer<typeof ViewStateSchema>;
