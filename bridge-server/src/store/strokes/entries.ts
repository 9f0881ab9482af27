import { createHash } from 'node:crypto';
import {
  activeDrawings,
  type DrawEntry,
  type Drawing,
  type LogEntry,
  LogEntrySchema,
  strokeGroup,
  undoRedoTarget,
} from '@impartial/shared';
import { sql, type Transaction } from 'kysely';
import { conflict, notFound } from '../../errors.js';
import type { Db } from '../database/open.js';
import { isBusy, isUniqueViolation } from '../database/open.js';
import type { Schema } from '../database/schema.js';

const refKey = (author: string, ref: string) => `${author}\u0000${ref}`;

const drawn = (d: Drawing) => ({ op: d.op, class: d.class, width: d.width, points: d.points });

type Tx = Transaction<Schema>;

/** Tries of a transaction that lost the race for a sequence number to another bridge node. */
const SEQUENCE_TRIES = 20;

/**
 * The append-only stroke log of every image in the index: drawings, erasures, undo and redo are
 * entries with a per-image sequence number, given in the transaction that stores the entry; an
 * entry is committed to disk when a call resolves.
 */
export class StrokeEntries {
  /**
   * Per image, the entry each (author, drawing ref) became, as far as the log was read (`upTo`):
   * other bridge nodes append too, so a ref not found here is looked for in what came since.
   */
  private readonly refs = new Map<string, { upTo: number; seqs: Map<string, number> }>();

  constructor(
    private readonly db: Db,
    /** PostgreSQL: bridge nodes append to one image one at a time (an advisory lock per image). */
    private readonly postgres = false,
  ) {}

  async list(imageId: string, since = 0, db: Db | Tx = this.db): Promise<LogEntry[]> {
    const rows = await db
      .selectFrom('strokes')
      .select('entry')
      .where('image', '=', imageId)
      .where('seq', '>', since)
      .orderBy('seq')
      .execute();
    return rows.map((r) => JSON.parse(r.entry) as LogEntry);
  }

  /** One entry of the log, or null. */
  async get(imageId: string, seq: number): Promise<LogEntry | null> {
    const r = await this.db
      .selectFrom('strokes')
      .select('entry')
      .where('image', '=', imageId)
      .where('seq', '=', seq)
      .executeTakeFirst();
    return r ? (JSON.parse(r.entry) as LogEntry) : null;
  }

  async lastSeq(imageId: string, db: Db | Tx = this.db): Promise<number> {
    const r = await db
      .selectFrom('strokes')
      .select((eb) => eb.fn.max('seq').as('s'))
      .where('image', '=', imageId)
      .executeTakeFirst();
    return Number(r?.s ?? 0);
  }

  /**
   * Runs `body` in a transaction that owns the image's next sequence numbers: on PostgreSQL an
   * advisory lock orders the nodes; a transaction that still loses the race (a duplicate
   * sequence, or on SQLite another process's write) is run again after a short random pause.
   */
  private async sequenced<T>(imageId: string, body: (trx: Tx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction().execute(async (trx) => {
          if (this.postgres) await sql`SELECT pg_advisory_xact_lock(hashtext(${imageId}))`.execute(trx);
          return body(trx);
        });
      } catch (e) {
        if (!(isUniqueViolation(e) || isBusy(e)) || attempt >= SEQUENCE_TRIES) throw e;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
      }
    }
  }

  private async insert(trx: Tx, imageId: string, make: (seq: number) => LogEntry): Promise<LogEntry> {
    const entry = LogEntrySchema.parse(make((await this.lastSeq(imageId, trx)) + 1));
    await trx
      .insertInto('strokes')
      .values({ image: imageId, seq: entry.seq, entry: JSON.stringify(entry) })
      .execute();
    return entry;
  }

  /** The entry an earlier drawing with this author and `ref` became, if any (a client resending). */
  async byRef(imageId: string, author: string, ref: string): Promise<LogEntry | null> {
    let refs = this.refs.get(imageId);
    if (!refs) {
      refs = { upTo: 0, seqs: new Map() };
      this.refs.set(imageId, refs);
    }
    const key = refKey(author, ref);
    if (!refs.seqs.has(key)) {
      for (const e of await this.list(imageId, refs.upTo)) {
        // A request's first entry: byRefAll reads its drawings on from there.
        const k = e.ref !== undefined ? refKey(e.author, e.ref) : null;
        if (k && !refs.seqs.has(k)) refs.seqs.set(k, e.seq);
        refs.upTo = Math.max(refs.upTo, e.seq);
      }
    }
    const seq = refs.seqs.get(key);
    return seq === undefined ? null : await this.get(imageId, seq);
  }

  /** Adds a drawing; on disk when this resolves. */
  async append(imageId: string, author: string, drawing: Drawing, ref?: string): Promise<LogEntry> {
    const t = Date.now();
    const entry = await this.sequenced(imageId, (trx) =>
      this.insert(trx, imageId, (seq) => ({ seq, author, t, ...drawn(drawing), ...(ref ? { ref } : {}) })),
    );
    const refs = this.refs.get(imageId);
    if (refs && ref !== undefined) refs.seqs.set(refKey(author, ref), entry.seq);
    if (refs && entry.seq === refs.upTo + 1) refs.upTo = entry.seq;
    return entry;
  }

  /**
   * Undo entries for `undo` and the drawings, in one transaction (one disk sync): an ROI set of
   * hundreds of cells arrives as thousands of strokes, and a sync each would hold up the bridge.
   * With a `ref`, the drawings carry it: one request's strokes, undone and redone together.
   */
  async appendMany(
    imageId: string,
    author: string,
    undo: readonly number[],
    drawings: readonly Drawing[],
    ref?: string,
  ): Promise<LogEntry[]> {
    const out = await this.sequenced(imageId, async (trx) => {
      const active = new Set(activeDrawings(await this.list(imageId, 0, trx)).map((d) => d.seq));
      const out: LogEntry[] = [];
      const t = Date.now();
      let next = (await this.lastSeq(imageId, trx)) + 1;
      for (const target of undo) {
        if (!active.has(target)) throw conflict(`entry ${target} is not a drawing in effect`);
        out.push(LogEntrySchema.parse({ seq: next++, author, t, op: 'undo', target }));
      }
      for (const d of drawings)
        out.push(LogEntrySchema.parse({ seq: next++, author, t, ...drawn(d), ...(ref ? { ref } : {}) }));
      // One statement per few hundred rows: SQLite and PostgreSQL cap the parameters of one statement.
      for (let i = 0; i < out.length; i += 500) {
        const rows = out.slice(i, i + 500).map((e) => ({ image: imageId, seq: e.seq, entry: JSON.stringify(e) }));
        await trx.insertInto('strokes').values(rows).execute();
      }
      return out;
    });
    const first = out.find((e) => e.ref !== undefined);
    const refs = this.refs.get(imageId);
    if (refs && first && ref !== undefined) refs.seqs.set(refKey(author, ref), first.seq);
    return out;
  }

  /** The drawings one request of `author` made (its `ref`), in log order; none when it made none. */
  async byRefAll(imageId: string, author: string, ref: string): Promise<LogEntry[]> {
    const first = await this.byRef(imageId, author, ref);
    if (!first) return [];
    return (await this.list(imageId, first.seq - 1)).filter((e) => e.author === author && e.ref === ref);
  }

  /**
   * Undo (or redo) `target`, or the author's latest drawing (undo) or undo (redo), together with
   * the rest of its request's drawings (an outline's strokes): one entry each, in one transaction.
   */
  undoRedo(imageId: string, author: string, op: 'undo' | 'redo', target?: number): Promise<LogEntry[]> {
    return this.sequenced(imageId, async (trx) => {
      const log = await this.list(imageId, 0, trx);
      const active = new Set(activeDrawings(log).map((d) => d.seq));
      const t = target ?? undoRedoTarget(log, author, op);
      if (t === null || t === undefined) throw conflict(`nothing of ${author}'s to ${op}`);
      if (!log.some((e) => e.seq === t && (e.op === 'add' || e.op === 'erase'))) {
        throw notFound(`entry ${t} as a drawing of this image`);
      }
      if (op === 'undo' && !active.has(t)) throw conflict(`entry ${t} is already undone`);
      if (op === 'redo' && active.has(t)) throw conflict(`entry ${t} is in effect; nothing to redo`);
      const made: LogEntry[] = [];
      // The named target first: its entry is what a caller that expects one gets.
      for (const seq of [t, ...strokeGroup(log, t, op).filter((s) => s !== t)])
        made.push(await this.insert(trx, imageId, (next) => ({ seq: next, author, t: Date.now(), op, target: seq })));
      return made;
    });
  }

  /** The drawings in effect (not undone), in log order. */
  async drawings(imageId: string): Promise<DrawEntry[]> {
    return activeDrawings(await this.list(imageId));
  }

  /** Every drawing of the log, undone ones too. */
  async everDrawn(imageId: string): Promise<DrawEntry[]> {
    return (await this.list(imageId)).filter((e): e is DrawEntry => e.op === 'add' || e.op === 'erase');
  }

  /** Hash of what the given images' logs hold in effect (model lineage). */
  async hash(imageIds: readonly string[]): Promise<string> {
    const h = createHash('sha256');
    for (const id of [...imageIds].sort()) h.update(id).update(JSON.stringify(await this.drawings(id)));
    return h.digest('hex').slice(0, 16);
  }
}
