import { createHash } from 'node:crypto';
import {
  activeDrawings,
  type DrawEntry,
  type Drawing,
  type LogEntry,
  LogEntrySchema,
  undoRedoTarget,
} from '@impartial/shared';
import { conflict, notFound } from '../../errors.js';
import type { Db } from '../db.js';

const refKey = (author: string, ref: string) => `${author}\u0000${ref}`;

const drawn = (d: Drawing) => ({ op: d.op, class: d.class, width: d.width, points: d.points });

/**
 * The append-only stroke log of every image in SQLite: drawings, erasures, undo and redo are
 * entries with a per-image sequence number; an entry is committed to disk when a call returns.
 */
export class StrokeEntries {
  /** Per image, the entry each (author, drawing ref) became (built from the log on first use). */
  private readonly refs = new Map<string, Map<string, number>>();

  constructor(private readonly db: Db) {}

  list(imageId: string, since = 0): LogEntry[] {
    const rows = this.db
      .prepare('SELECT entry FROM strokes WHERE image = ? AND seq > ? ORDER BY seq')
      .all(imageId, since);
    return (rows as Array<{ entry: string }>).map((r) => JSON.parse(r.entry) as LogEntry);
  }

  /** One entry of the log, or null. */
  get(imageId: string, seq: number): LogEntry | null {
    const r = this.db.prepare('SELECT entry FROM strokes WHERE image = ? AND seq = ?').get(imageId, seq);
    return r ? (JSON.parse((r as { entry: string }).entry) as LogEntry) : null;
  }

  lastSeq(imageId: string): number {
    const r = this.db.prepare('SELECT MAX(seq) AS s FROM strokes WHERE image = ?').get(imageId) as { s: number | null };
    return r.s ?? 0;
  }

  private insert(imageId: string, make: (seq: number) => LogEntry): LogEntry {
    return this.db.transaction(() => {
      const entry = LogEntrySchema.parse(make(this.lastSeq(imageId) + 1));
      this.db
        .prepare('INSERT INTO strokes (image, seq, entry) VALUES (?, ?, ?)')
        .run(imageId, entry.seq, JSON.stringify(entry));
      return entry;
    })();
  }

  /** The entry an earlier drawing with this author and `ref` became, if any (a client resending). */
  byRef(imageId: string, author: string, ref: string): LogEntry | null {
    let refs = this.refs.get(imageId);
    if (!refs) {
      refs = new Map();
      for (const e of this.list(imageId)) if (e.ref !== undefined) refs.set(refKey(e.author, e.ref), e.seq);
      this.refs.set(imageId, refs);
    }
    const seq = refs.get(refKey(author, ref));
    return seq === undefined ? null : this.get(imageId, seq);
  }

  /** Adds a drawing; on disk when this returns. */
  append(imageId: string, author: string, drawing: Drawing, ref?: string): LogEntry {
    const t = Date.now();
    const entry = this.insert(imageId, (seq) => ({ seq, author, t, ...drawn(drawing), ...(ref ? { ref } : {}) }));
    if (ref !== undefined) this.refs.get(imageId)?.set(refKey(author, ref), entry.seq);
    return entry;
  }

  /**
   * Undo entries for `undo` and the drawings, in one transaction (one disk sync): an ROI set of
   * hundreds of cells arrives as thousands of strokes, and a sync each would hold up the bridge.
   */
  appendMany(imageId: string, author: string, undo: readonly number[], drawings: readonly Drawing[]): LogEntry[] {
    return this.db.transaction(() => {
      const active = new Set(activeDrawings(this.list(imageId)).map((d) => d.seq));
      const out: LogEntry[] = [];
      const t = Date.now();
      for (const target of undo) {
        if (!active.has(target)) throw conflict(`entry ${target} is not a drawing in effect`);
        out.push(this.insert(imageId, (seq) => ({ seq, author, t, op: 'undo', target })));
      }
      for (const d of drawings) out.push(this.insert(imageId, (seq) => ({ seq, author, t, ...drawn(d) })));
      return out;
    })();
  }

  /** Undo (or redo) `target`, or the author's latest drawing (undo) or undo (redo). */
  undoRedo(imageId: string, author: string, op: 'undo' | 'redo', target?: number): LogEntry {
    return this.db.transaction(() => {
      const log = this.list(imageId);
      const active = new Set(activeDrawings(log).map((d) => d.seq));
      const t = target ?? undoRedoTarget(log, author, op);
      if (t === null || t === undefined) throw conflict(`nothing of ${author}'s to ${op}`);
      if (!log.some((e) => e.seq === t && (e.op === 'add' || e.op === 'erase'))) {
        throw notFound(`entry ${t} as a drawing of this image`);
      }
      if (op === 'undo' && !active.has(t)) throw conflict(`entry ${t} is already undone`);
      if (op === 'redo' && active.has(t)) throw conflict(`entry ${t} is in effect; nothing to redo`);
      return this.insert(imageId, (seq) => ({ seq, author, t: Date.now(), op, target: t }));
    })();
  }

  /** The drawings in effect (not undone), in log order. */
  drawings(imageId: string): DrawEntry[] {
    return activeDrawings(this.list(imageId));
  }

  /** Every drawing of the log, undone ones too. */
  everDrawn(imageId: string): DrawEntry[] {
    return this.list(imageId).filter((e): e is DrawEntry => e.op === 'add' || e.op === 'erase');
  }

  /** Hash of what the given images' logs hold in effect (model lineage). */
  hash(imageIds: readonly string[]): string {
    const h = createHash('sha256');
    for (const id of [...imageIds].sort()) h.update(id).update(JSON.stringify(this.drawings(id)));
    return h.digest('hex').slice(0, 16);
  }
}
