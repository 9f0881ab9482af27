import path from 'node:path';
import { BridgeError } from './errors.js';

/*
 * Where things live under the data folder. Ids are checked against IdSchema before they get here;
 * `contained` is the last guard: a path built from request input must stay under its root.
 */

export interface DataLayout {
  root: string;
  database: string;
  image(imageId: string): string;
  model(modelId: string): string;
  prediction(imageId: string, modelId: string): string;
  /** A label file attached to an image under a tag (MONAI Label's datastore labels). */
  label(imageId: string, tag: string, ext: string): string;
  predictions(imageId: string): string;
  temp: string;
}

export function dataLayout(root: string): DataLayout {
  const abs = path.resolve(root);
  return {
    root: abs,
    database: path.join(abs, 'impartial.sqlite'),
    image: (id) => contained(abs, 'images', `${id}.ome.zarr`),
    model: (id) => contained(abs, 'models', id),
    prediction: (image, model) => contained(abs, 'predictions', image, `${model}.ome.zarr`),
    label: (image, tag, ext) => contained(abs, 'labels', image, `${tag}${ext}`),
    predictions: (image) => contained(abs, 'predictions', image),
    temp: path.join(abs, 'tmp'),
  };
}

/** root/parts..., refused unless it normalises to a path inside root. */
export function contained(root: string, ...parts: string[]): string {
  const resolved = path.resolve(root, ...parts);
  const rel = path.relative(root, resolved);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel) || parts.some((p) => p.includes('\0'))) {
    throw new BridgeError('forbidden', 'path leaves its folder');
  }
  return resolved;
}
