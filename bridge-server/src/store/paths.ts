import path from 'node:path';
import { contained } from '../files/contained.js';

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
  /** Every label file of an image. */
  labels(imageId: string): string;
  predictions(imageId: string): string;
  /** A published model version's files (weights, cover, sample), kept apart from any project. */
  catalogue(entryId: string): string;
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
    labels: (image) => contained(abs, 'labels', image),
    catalogue: (id) => contained(abs, 'catalogue', id),
    temp: path.join(abs, 'tmp'),
  };
}
