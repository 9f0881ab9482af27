import type { CatalogueEntry } from '@impartial/shared';
import { conflict, notFound } from '../../errors.js';
import type { Db } from '../db.js';

/** What is stored of an entry; its use counts are added up when it is read. */
export type StoredEntry = Omit<CatalogueEntry, 'uses' | 'supersededBy'> & {
  /** The account id (or, on a single-user bridge, the name) that published it: who may supersede it. */
  publisherId: string;
  /** The group id it is shared with (visibility "group"). */
  groupId: string | null;
};

export type UseKind = 'inference' | 'fine-tune';

interface Row {
  record: string;
  superseded_by: string | null;
}

/**
 * Published model versions: immutable once added (only the pointer to the version that supersedes
 * one is ever set), and every use of one, by user. Publishers are kept by name in the record, so a
 * deleted account keeps its credit.
 */
export class CatalogueTable {
  constructor(private readonly db: Db) {}

  /** Adds an entry; when it supersedes another, marks that one in the same transaction. */
  add(entry: StoredEntry): void {
    try {
      this.insert(entry);
    } catch (e) {
      // Two publishes of one version at once: the second finds the first's row.
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw conflict(`model version ${entry.model} is already published`);
      }
      throw e;
    }
  }

  private insert(entry: StoredEntry): void {
    this.db.transaction(() => {
      if (entry.supersedes) {
        const changed = this.db
          .prepare('UPDATE catalogue SET superseded_by = ? WHERE id = ? AND superseded_by IS NULL')
          .run(entry.id, entry.supersedes).changes;
        if (changed === 0) throw conflict(`catalogue entry ${entry.supersedes} is already superseded`);
      }
      this.db
        .prepare(
          'INSERT INTO catalogue (id, series, model, publisher, visibility, grp, record, created) ' +
            'VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          entry.id,
          entry.series,
          entry.model,
          entry.publisherId,
          entry.visibility,
          entry.groupId,
          JSON.stringify(entry),
          entry.created,
        );
    })();
  }

  find(id: string): CatalogueEntry & StoredEntry {
    const row = this.db.prepare('SELECT record, superseded_by FROM catalogue WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw notFound(`catalogue entry ${id}`);
    return this.withUses([row], 'WHERE entry = ?', [id])[0]!;
  }

  list(): Array<CatalogueEntry & StoredEntry> {
    const rows = this.db.prepare('SELECT record, superseded_by FROM catalogue ORDER BY created, id').all() as Row[];
    return this.withUses(rows, '', []);
  }

  /** The entry that published a model version, if any. */
  byModel(model: string): string | null {
    const row = this.db.prepare('SELECT id FROM catalogue WHERE model = ?').get(model) as { id: string } | undefined;
    return row?.id ?? null;
  }

  recordUse(entry: string, user: string, kind: UseKind): void {
    this.db
      .prepare('INSERT INTO catalogue_uses (entry, user, kind, at) VALUES (?, ?, ?, ?)')
      .run(entry, user, kind, new Date().toISOString());
  }

  /** The entries of `rows` with their use counts, added up in two grouped queries (`where` picks the uses). */
  private withUses(rows: Row[], where: string, args: string[]): Array<CatalogueEntry & StoredEntry> {
    const byKind = this.db
      .prepare(
        `SELECT entry, kind, COUNT(*) AS n, COUNT(DISTINCT user) AS users FROM catalogue_uses ${where} ` +
          'GROUP BY entry, kind',
      )
      .all(...args) as Array<{ entry: string; kind: UseKind; n: number; users: number }>;
    const byEntry = this.db
      .prepare(`SELECT entry, COUNT(DISTINCT user) AS users FROM catalogue_uses ${where} GROUP BY entry`)
      .all(...args) as Array<{ entry: string; users: number }>;
    const counts = new Map(byKind.map((r) => [`${r.entry}/${r.kind}`, r]));
    const count = (entry: string, kind: UseKind) => counts.get(`${entry}/${kind}`);
    const users = new Map(byEntry.map((r) => [r.entry, r.users]));
    return rows.map((row) => {
      const entry = JSON.parse(row.record) as StoredEntry;
      const inference = count(entry.id, 'inference'),
        fineTunes = count(entry.id, 'fine-tune');
      return {
        ...entry,
        supersededBy: row.superseded_by,
        uses: {
          inference: inference?.n ?? 0,
          fineTunes: fineTunes?.n ?? 0,
          inferenceUsers: inference?.users ?? 0,
          fineTuneUsers: fineTunes?.users ?? 0,
          users: users.get(entry.id) ?? 0,
        },
      };
    });
  }
}
