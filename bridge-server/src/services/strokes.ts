import type { DrawEntry, Drawing, LogEntry, Polygon } from '@impartial/shared';
import { badRequest } from '../errors.js';
import type { Client } from '../hub/hub.js';
import { KeyedQueue } from '../keyed-queue.js';
import type { StoredImage } from '../store/store.js';
import type { Actor } from './actor.js';
import type { ServiceContext } from './context.js';
import type { Scope } from './scope.js';
import { checkOutlines, checkStroke } from './stroke-limits.js';

/** Who sent a change over a live connection: its copy of the published entry carries the request's ref. */
export interface Sender {
  client?: Client;
  ref?: string;
}

/** Strokes: the log of an image (draw, erase, undo, redo, batches), each change saved then published. */
export class StrokeService {
  /** Per image, an append and its publication before the next: clients get entries in log order. */
  private readonly published = new KeyedQueue();

  constructor(
    private readonly ctx: ServiceContext,
    private readonly scope: Scope,
  ) {}

  /** The log after `since`, and the newest sequence number. */
  async entries(actor: Actor, imageId: string, since = 0): Promise<{ seq: number; entries: LogEntry[] }> {
    const image = await this.scope.image(actor, imageId, 'read');
    return { seq: await this.ctx.strokes.lastSeq(image.id), entries: await this.ctx.strokes.entries(image.id, since) };
  }

  async lastSeq(actor: Actor, imageId: string): Promise<number> {
    return this.ctx.strokes.lastSeq((await this.scope.image(actor, imageId, 'read')).id);
  }

  /** One entry of an image's log, or null. */
  async entry(actor: Actor, imageId: string, seq: number): Promise<LogEntry | null> {
    return this.ctx.strokes.entry((await this.scope.image(actor, imageId, 'read')).id, seq);
  }

  /** The drawings in effect. */
  async drawings(actor: Actor, imageId: string): Promise<DrawEntry[]> {
    return this.ctx.strokes.drawings((await this.scope.image(actor, imageId, 'read')).id);
  }

  /**
   * Adds a drawing by the actor. With a `ref`, the same drawing sent again (its acknowledgement
   * was lost) returns the entry it made the first time, `fresh` false, and is not published again.
   */
  async draw(
    actor: Actor,
    imageId: string,
    drawing: Drawing,
    from: Sender = {},
  ): Promise<{ entry: LogEntry; fresh: boolean }> {
    const image = await this.scope.image(actor, imageId, 'annotate');
    checkStroke(drawing);
    return this.published.run(image.id, async () => {
      const made = await this.ctx.strokes.appendOnce(image.id, actor.name, drawing, from.ref);
      if (made.fresh) {
        this.ctx.hub.entry(image.id, made.entry, from.client, from.ref);
        await this.toLive(image);
      } else
        from.client?.send({ type: 'entry', entry: made.entry, ...(from.ref !== undefined ? { ref: from.ref } : {}) });
      return made;
    });
  }

  /**
   * Undo (or redo) `target`, or the actor's latest drawing (undo) or undo (redo), with the rest of
   * its request's drawings (an outline's strokes go together). The named drawing's entry comes first.
   */
  async undoRedo(
    actor: Actor,
    imageId: string,
    op: 'undo' | 'redo',
    target?: number,
    from: Sender = {},
  ): Promise<LogEntry[]> {
    const image = await this.scope.image(actor, imageId, 'annotate');
    // Switching someone else's drawing off or on is changing their work: that takes write permission.
    const named = target !== undefined ? await this.ctx.strokes.entry(image.id, target) : null;
    if (named && named.author !== actor.name) await this.scope.image(actor, imageId, 'write');
    return this.published.run(image.id, async () => {
      const entries = await this.ctx.strokes.undoRedo(image.id, actor.name, op, target);
      for (const e of entries) this.ctx.hub.entry(image.id, e, from.client, from.ref);
      if (entries.length) await this.toLive(image);
      return entries;
    });
  }

  /** A closed outline drawn by a person, as strokes (see `addOutlines`) that share the sender's ref. */
  async outline(actor: Actor, imageId: string, outline: Polygon, from: Sender = {}): Promise<LogEntry[]> {
    return this.addOutlines(actor, imageId, [outline], [], {}, from);
  }

  /**
   * Switches off `undo` and adds `drawings` in one transaction (an ROI set, an outline), then
   * publishes each entry. The drawings carry the sender's ref, when there is one: sent again with
   * it, nothing is added.
   */
  async replace(
    actor: Actor,
    imageId: string,
    undo: readonly number[],
    drawings: readonly Drawing[],
    from: Sender = {},
  ): Promise<LogEntry[]> {
    const image = await this.scope.image(actor, imageId, 'annotate');
    if (undo.length === 0 && drawings.length === 0) throw badRequest('nothing to add or undo');
    for (const d of drawings) checkStroke(d);
    const entries = await this.published.run(image.id, async () => {
      // Sent again (its acknowledgement was lost): what the first time made, to the sender only.
      const earlier = from.ref !== undefined ? await this.ctx.strokes.byRef(image.id, actor.name, from.ref) : [];
      for (const e of earlier) from.client?.send({ type: 'entry', entry: e, ref: from.ref });
      if (earlier.length) return earlier;
      const made = await this.ctx.strokes.appendMany(image.id, actor.name, undo, drawings, from.ref);
      for (const e of made) this.ctx.hub.entry(image.id, e, from.client, from.ref);
      await this.toLive(image);
      return made;
    });
    return entries;
  }

  /**
   * Whole-cell outlines as strokes (skeleton and inner ring as cell, the outline as background:
   * what separates touching cells), computed off the event loop, plus open lines as drawn.
   * `replaceOwn` first switches off what this actor added before, so sending a label set again
   * replaces it.
   */
  async addOutlines(
    actor: Actor,
    imageId: string,
    outlines: Polygon[],
    lines: Drawing[] = [],
    options: { replaceOwn?: boolean } = {},
    from: Sender = {},
  ): Promise<LogEntry[]> {
    const image = await this.scope.image(actor, imageId, 'annotate');
    checkOutlines(outlines);
    const traced = outlines.length ? await this.ctx.strokes.outlines(outlines, image.width, image.height) : [];
    const drawings = [...traced, ...lines];
    if (drawings.length === 0) throw badRequest('the outlines enclose no pixel of the image');
    const own = options.replaceOwn
      ? (await this.ctx.strokes.drawings(image.id)).filter((d) => d.author === actor.name)
      : [];
    return this.replace(
      actor,
      image.id,
      own.map((d) => d.seq),
      drawings,
      from,
    );
  }

  /** Switches off every drawing in effect (an empty log to train on), published like any undo. */
  async clear(actor: Actor, imageId: string): Promise<LogEntry[]> {
    const active = (await this.drawings(actor, imageId)).map((d) => d.seq);
    return active.length ? await this.replace(actor, imageId, active, []) : [];
  }

  /**
   * A change of an image's strokes, told to the project's live training (it takes them in between
   * steps). Called in the image's queue, so the states go out in log order.
   */
  private async toLive(image: StoredImage): Promise<void> {
    if (!this.ctx.jobs.liveTraining(image.project)) return;
    const seq = await this.ctx.strokes.lastSeq(image.id);
    const drawings = await this.ctx.strokes.drawings(image.id);
    this.ctx.jobs.tellLive(image.project, { type: 'strokes', image: image.id, seq, drawings });
  }

  /** Hash of the drawings in effect on these images (what a model version records it was trained on). */
  async hash(actor: Actor, imageIds: readonly string[]): Promise<string> {
    const images = await Promise.all(imageIds.map((id) => this.scope.image(actor, id, 'read')));
    return this.ctx.strokes.hash(images.map((i) => i.id));
  }
}
