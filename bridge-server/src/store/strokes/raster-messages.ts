import type { Drawing, Polygon, TracedStroke } from '@impartial/shared';
import type { TaskFilesSpec } from '../files.js';

/*
 * What the bridge asks its raster worker: painting, rebuilding and writing scribble rasters, and
 * turning outlines into strokes, all off the event loop. Replies carry the request's id.
 */

/** Where an image's scribble raster lives on disk (and in object storage, with `files`), and its size. */
export interface RasterTarget {
  width: number;
  height: number;
  dir: string;
  levels: number;
  files?: TaskFilesSpec;
}

export type RasterRequest = { id: number } & (
  | { type: 'paint'; image: string; target: RasterTarget; seq: number; drawing: Drawing }
  | {
      type: 'rebuild';
      image: string;
      target: RasterTarget;
      seq: number;
      drawings: Drawing[];
      /** Every drawing ever in the log (undone ones too), the first time: their tiles are rewritten. */
      everDrawn: Drawing[] | null;
    }
  | { type: 'counts'; image: string }
  | { type: 'flush'; image: string }
  | { type: 'settle' }
  | { type: 'forget'; image: string }
  | { type: 'outlines'; polygons: Polygon[]; width: number; height: number }
);

export type RasterReply =
  | { id: number; ok: true; counts?: Array<[number, number]>; strokes?: TracedStroke[] }
  | { id: number; ok: false; message: string };
