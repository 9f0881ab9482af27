import type { CatalogueEntry } from '@impartial/shared';
import { conflict, notFound } from '../../errors.js';
import { type Db, isUniqueViolation } from '../database/open.js';

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
  async add(entry: StoredEntry): Promise<void> {
    try {
      await this.insert(entry);
    } catch (e) {
      // Two publishes of one version at once: the second finds the first's row.
      if (isUniqueViolation(e)) {
        throw conflict(`model version ${entry.model} is already published`);
      }
      throw e;
    }
  }

  private async insert(entry: StoredEntry): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      if (entry.supersedes) {
        const r = await trx
          .updateTable('catalogue')
          .set({ superseded_by: entry.id })
          .where('id', '=', entry.supersedes)
          .where('superseded_by', 'is', null)
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) === 0) throw conflict(`catalogue entry ${entry.supersedes} is already superseded`);
      }
      await trx
        .insertInto('catalogue')
        .values({
          id: entry.id,
          series: entry.series,
          model: entry.model,
          publisher: entry.publisherId,
          visibility: entry.visibility,
          grp: entry.groupId,
          record: JSON.stringify(entry),
          created: entry.created,
        })
        .execute();
    });
  }

  async find(id: string): Promise<CatalogueEntry & StoredEntry> {
    const row = await this.db
      .selectFrom('catalogue')
      .select(['record', 'superseded_by'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw notFound(`catalogue entry ${id}`);
    return (await this.withUses([row], id))[0]!;
  }

  async list(): Promise<Array<CatalogueEntry & StoredEntry>> {
    const rows = await this.db
      .selectFrom('catalogue')
      .select(['record', 'superseded_by'])
      .orderBy('created')
      .orderBy('id')
      .execute();
    return this.withUses(rows);
  }

  /** The entry that published a model version, if any. */
  async byModel(model: string): Promise<string | null> {
    const row = await this.db.selectFrom('catalogue').select('id').where('model', '=', model).executeTakeFirst();
    return row?.id ?? null;
  }

  async recordUse(entry: string, user: string, kind: UseKind): Promise<void> {
    await this.db.insertInto('catalogue_uses').values({ entry, user, kind, at: new Date().toISOString() }).execute();
  }

  /** The entries of `rows` with their use counts, added up in two grouped queries (only `entry`'s uses when given). */
  private async withUses(rows: Row[], entry?: string): Promise<Array<CatalogueEntry & StoredEntry>> {
    const uses = () => {
      const q = this.db.selectFrom('catalogue_uses');
      return entry === undefined ? q : q.where('entry', '=', entry);
    };
    const byKind = await uses()
      .select((eb) => ['entry', 'kind', eb.fn.countAll().as('n'), eb.fn.count('user').distinct().as('users')])
      .groupBy(['entry', 'kind'])
      .execute();
    const byEntry = await uses()
      .select((eb) => ['entry', eb.fn.count('user').distinct().as('users')])
      .groupBy('entry')
      .execute();
    const counts = new Map(byKind.map((r) => [`${r.entry}/${r.kind}`, { n: Number(r.n), users: Number(r.users) }]));
    const count = (entry: string, kind: UseKind) => counts.get(`${entry}/${kind}`);
    const users = new Map(byEntry.map((r) => [r.entry, Number(r.users)]));
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
