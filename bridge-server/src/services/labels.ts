import { LimitError, type Roi, readRoiZip, roisToPolygons, writeRoiZip } from '@impartial/shared';
import { badRequest, notFound } from '../errors.js';
import type { LabelFile } from '../store/tables/labels.js';
import type { Actor } from './actor.js';
import type { ServiceContext } from './context.js';
import type { Scope } from './scope.js';
import type { StrokeService } from './strokes.js';

export type { LabelFile };

/** Open ROIs named like this are background lines; others are cell lines. */
const BACKGROUND_NAME = /^(bg|back|background)/i;

/**
 * Label files attached to images under tags (MONAI Label's datastore labels), and the "final"
 * label: an ImageJ ROI set that is the image's stroke log seen as outlines. An uploaded set
 * becomes strokes (replacing what the previous upload added); the set read back is that upload
 * plus every other stroke in effect as a polyline ROI.
 */
export class LabelService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly scope: Scope,
    private readonly strokes: StrokeService,
  ) {}

  async list(actor: Actor, imageId: string): Promise<LabelFile[]> {
    return this.ctx.store.labels.list((await this.scope.image(actor, imageId, 'read')).id);
  }

  async find(actor: Actor, imageId: string, tag: string): Promise<LabelFile | null> {
    return this.ctx.store.labels.find((await this.scope.image(actor, imageId, 'read')).id, tag);
  }

  /** Whether the image has strokes in effect (its "final" label). */
  async hasFinal(actor: Actor, imageId: string): Promise<boolean> {
    return (await this.strokes.drawings(actor, imageId)).length > 0;
  }

  async put(actor: Actor, imageId: string, tag: string, ext: string, bytes: Uint8Array, info: Record<string, unknown>) {
    const image = await this.scope.image(actor, imageId, 'annotate');
    // In the data folder, or in object storage where the bridge has one (every node reads it there).
    await this.ctx.store.files.putBlob(this.ctx.store.layout.label(image.id, tag, ext), bytes);
    await this.ctx.store.labels.put(image.id, tag, ext, { ...info, ts: Math.floor(Date.now() / 1000) });
  }

  async read(actor: Actor, imageId: string, tag: string): Promise<{ file: LabelFile; bytes: Uint8Array }> {
    const image = await this.scope.image(actor, imageId, 'read');
    const file = await this.ctx.store.labels.find(image.id, tag);
    if (!file) throw notFound(`a label of image ${image.id} under tag ${tag}`);
    const bytes = await this.ctx.store.files.getBlob(this.ctx.store.layout.label(image.id, tag, file.ext));
    if (!bytes) throw notFound(`the file of label ${tag} of image ${image.id}`);
    return { file, bytes };
  }

  async setInfo(
    actor: Actor,
    imageId: string,
    tag: string,
    info: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const image = await this.scope.image(actor, imageId, 'annotate');
    const file = await this.ctx.store.labels.find(image.id, tag);
    if (!file) throw notFound(`a label file of image ${image.id} under tag ${tag}`);
    await this.ctx.store.labels.put(image.id, tag, file.ext, { ...file.info, ...info });
    return (await this.ctx.store.labels.find(image.id, tag))!.info;
  }

  /** Removes a label file; the final label also switches off every stroke in effect. */
  async delete(actor: Actor, imageId: string, tag: string): Promise<void> {
    // The final label is everyone's strokes: removing it takes write permission.
    const image = await this.scope.image(actor, imageId, tag === 'final' ? 'write' : 'annotate');
    if (tag === 'final') await this.strokes.clear(actor, image.id);
    const file = await this.ctx.store.labels.find(image.id, tag);
    if (file) await this.ctx.store.files.removeBlob(this.ctx.store.layout.label(image.id, tag, file.ext));
    await this.ctx.store.labels.remove(image.id, tag);
  }

  /** An ImageJ ROI set as the image's final label: outlines and lines become strokes; the set is kept. */
  async putFinal(actor: Actor, imageId: string, zip: Uint8Array, info: Record<string, unknown>) {
    let rois: Roi[];
    try {
      rois = readRoiZip(zip);
    } catch (e) {
      if (e instanceof LimitError) throw e;
      throw badRequest(`the final label must be an ImageJ ROI set (.zip): ${(e as Error).message}`);
    }
    const outlines = roisToPolygons(rois);
    const lines = rois
      .filter((r) => !r.closed && r.points.length >= 1 && r.type !== 'point')
      .map((r) => ({ op: 'add' as const, class: BACKGROUND_NAME.test(r.name) ? 2 : 1, width: 2, points: r.points }));
    if (outlines.length === 0 && lines.length === 0) throw badRequest('the ROI set holds no outlines or lines');
    const entries = await this.strokes.addOutlines(actor, imageId, outlines, lines, { replaceOwn: true });
    const added = { strokes: entries.filter((e) => e.op === 'add' || e.op === 'erase').length, rois: rois.length };
    await this.put(actor, imageId, 'final', '.zip', zip, { ...info, ...added });
    return added;
  }

  /**
   * The final label as an ROI set: the uploaded one (while its strokes are in effect) and other strokes
   * as polylines.
   */
  async finalZip(actor: Actor, imageId: string): Promise<Uint8Array | null> {
    const active = await this.strokes.drawings(actor, imageId);
    const rois: Roi[] = [];
    const saved = await this.find(actor, imageId, 'final');
    if (saved && active.some((d) => d.author === actor.name)) {
      rois.push(...readRoiZip((await this.read(actor, imageId, 'final')).bytes));
    }
    for (const d of active) {
      if (d.author === actor.name || d.op !== 'add') continue;
      const points = d.points.length > 1 ? d.points : [d.points[0]!, d.points[0]!];
      const name = `${d.class === 2 ? 'background' : 'cell'}-${d.seq}`;
      rois.push({ name, type: 'polyline', points: points.map((p) => [p[0], p[1]] as [number, number]), closed: false });
    }
    return rois.length ? writeRoiZip(rois) : null;
  }
}
