import {
  InputError,
  instancesToScribbles,
  type LabelImage,
  type MultiChannelImage,
  normalizeImage,
  outlinedCells,
  outlinesToScribbles,
  polygonsToLabels,
  roisToPolygons,
  SCRIBBLE_BACKGROUND,
} from '@impartial/shared';
import { readImageFile, readLabelTiffFile, readRoiZipFile } from '@impartial/shared/node';
import { UsageError } from './args.js';
import { log } from './progress.js';

export interface LoadedImage {
  file: string;
  raw: MultiChannelImage;
  normalized: MultiChannelImage;
}

/** Loads images and checks that they agree on the channel count. */
export async function loadImages(files: readonly string[]): Promise<LoadedImage[]> {
  const out: LoadedImage[] = [];
  for (const file of files) {
    const raw = await readImageFile(file, (m) => log(`warning: ${m}`));
    if (out.length && raw.channels !== out[0]!.raw.channels) {
      throw new InputError(
        `${file} has ${raw.channels} channels but ${out[0]!.file} has ${out[0]!.raw.channels}; ` +
          'train on images with the same channels',
      );
    }
    out.push({ file, raw, normalized: normalizeImage(raw) });
  }
  return out;
}

/** Ground-truth instances from an ImageJ ROI zip (traced outlines) or an integer label TIFF. */
export async function loadInstanceLabels(file: string, width: number, height: number): Promise<LabelImage> {
  let labels: LabelImage;
  if (/\.zip$/i.test(file))
    labels = polygonsToLabels(roisToPolygons(await readRoiZipFile(file, (m) => log(`warning: ${m}`))), width, height);
  else if (/\.tiff?$/i.test(file)) labels = await readLabelTiffFile(file);
  else throw new InputError(`${file}: labels must be an ImageJ ROI set (.zip) or a label image (.tif)`);
  if (labels.width !== width || labels.height !== height) {
    throw new InputError(`${file} is ${labels.width}x${labels.height} but its image is ${width}x${height}`);
  }
  return labels;
}

export type LabelKind = 'auto' | 'outlines' | 'scribbles';

/**
 * Scribbles from what a person drew: ROI outlines (zip), an instance label TIFF (each cell
 * outlined), or a scribble raster TIFF (1 = cell, 2 = background). `auto` reads a TIFF holding
 * only 0, 1 and 2 as a scribble raster.
 */
export async function loadUserScribbles(
  file: string,
  width: number,
  height: number,
  kind: LabelKind,
): Promise<{ scribbles: LabelImage; outlined: LabelImage | null }> {
  if (/\.zip$/i.test(file)) {
    if (kind === 'scribbles') throw new UsageError(`${file}: an ROI zip holds outlines, not a scribble raster`);
    const polygons = roisToPolygons(await readRoiZipFile(file, (m) => log(`warning: ${m}`)));
    if (polygons.length === 0)
      throw new InputError(`${file}: no closed outlines (polygon, traced, freehand, rect or oval ROIs) found`);
    return {
      scribbles: outlinesToScribbles(polygons, width, height),
      outlined: polygonsToLabels(polygons, width, height),
    };
  }
  const labels = await loadInstanceLabels(file, width, height);
  const max = labels.data.reduce((m, v) => Math.max(m, v), 0);
  if (kind === 'scribbles' || (kind === 'auto' && max <= SCRIBBLE_BACKGROUND)) {
    // Cells closed off by background strokes are cells the person outlined: the cut is chosen on them.
    const cells = outlinedCells(labels);
    return { scribbles: labels, outlined: cells.data.some((v) => v > 0) ? cells : null };
  }
  return { scribbles: instancesToScribbles(labels), outlined: labels };
}

export function checkPairs(
  images: readonly string[] | undefined,
  labels: readonly string[] | undefined,
): { images: string[]; labels: string[] } {
  if (!images?.length) throw new UsageError('--images is required');
  if (!labels?.length) throw new UsageError('--labels is required');
  if (images.length !== labels.length)
    throw new UsageError(
      `got ${images.length} images but ${labels.length} label files; give one label file per image, in the same order`,
    );
  return { images: [...images], labels: [...labels] };
}
