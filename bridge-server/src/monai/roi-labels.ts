import { readFile } from 'node:fs/promises';
import { outlinesToStrokes, type Roi, readRoiZip, roisToPolygons, writeRoiZip } from '@impartial/shared';
import { writeFileAtomic } from '@impartial/shared/node';
import { BridgeError } from '../store/errors.js';
import type { StoredImage } from '../store/store.js';
import { MONAI_AUTHOR, type MonaiApp } from './app.js';

/*
 * MONAI's "final" label of an image and the bridge's stroke log are one data set: an uploaded
 * ImageJ ROI set becomes strokes (outlines -> cell skeleton + inner ring and background outline,
 * open lines as drawn), replacing what the previous upload added; the label read back is that
 * ROI set plus every other stroke in effect as a polyline ROI.
 */

const BACKGROUND_NAME = /^(bg|back|background)/i;

export function putFinalLabel(app: MonaiApp, image: StoredImage, zip: Uint8Array): { strokes: number; rois: number } {
  let rois: Roi[];
  try {
    rois = readRoiZip(zip);
  } catch (e) {
    throw new BridgeError('bad-request', `the final label must be an ImageJ ROI set (.zip): ${(e as Error).message}`);
  }
  const outlines = roisToPolygons(rois);
  const lines = rois.filter((r) => !r.closed && r.points.length >= 1 && r.type !== 'point');
  if (outlines.length === 0 && lines.length === 0)
    throw new BridgeError('bad-request', 'the ROI set holds no outlines or lines');
  const { strokes, hub } = app.ctx;
  const drawings = [
    ...outlinesToStrokes(outlines, image.width, image.height),
    ...lines.map((r) => ({
      op: 'add' as const,
      class: BACKGROUND_NAME.test(r.name) ? 2 : 1,
      width: 2,
      points: r.points,
    })),
  ];
  // What the previous upload added is switched off (an undo entry each), so re-submitting replaces it.
  const previous = strokes
    .drawings(image.id)
    .filter((d) => d.author === MONAI_AUTHOR)
    .map((d) => d.seq);
  for (const e of strokes.appendMany(image.id, MONAI_AUTHOR, previous, drawings)) hub.entry(image.id, e);
  return { strokes: drawings.length, rois: rois.length };
}

/** The ROI set to hand back: the uploaded one (while its strokes are in effect) and other strokes as polylines. */
export async function finalLabelZip(app: MonaiApp, image: StoredImage): Promise<Uint8Array | null> {
  const active = app.ctx.strokes.drawings(image.id);
  const rois: Roi[] = [];
  const saved = app.ctx.store.labels(image.id).find((l) => l.tag === 'final');
  if (saved && active.some((d) => d.author === MONAI_AUTHOR)) {
    rois.push(...readRoiZip(new Uint8Array(await readFile(app.ctx.store.layout.label(image.id, 'final', saved.ext)))));
  }
  for (const d of active) {
    if (d.author === MONAI_AUTHOR || d.op !== 'add') continue;
    rois.push({
      name: `${d.class === 2 ? 'background' : 'cell'}-${d.seq}`,
      type: 'polyline',
      points: (d.points.length > 1 ? d.points : [d.points[0]!, d.points[0]!]).map(
        (p) => [p[0], p[1]] as [number, number],
      ),
      closed: false,
    });
  }
  return rois.length ? writeRoiZip(rois) : null;
}

export async function saveLabelFile(
  app: MonaiApp,
  image: StoredImage,
  tag: string,
  ext: string,
  bytes: Uint8Array,
  info: Record<string, unknown>,
): Promise<void> {
  await writeFileAtomic(app.ctx.store.layout.label(image.id, tag, ext), bytes);
  app.ctx.store.putLabel(image.id, tag, ext, {
    ...info,
    ts: Math.floor(Date.now() / 1000),
    name: `${app.monaiId(image)}${ext}`,
  });
}
