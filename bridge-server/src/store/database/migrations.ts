import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';

/*
 * The index's migrations, for SQLite and PostgreSQL alike, run in order at start (Kysely's
 * Migrator: a lock table keeps two bridges starting at once from running them twice). Tables and
 * indexes are created "if not exists", so a data folder made before migrations keeps its rows.
 * Never edit a migration that shipped: add the next one.
 */

// biome-ignore lint/suspicious/noExplicitAny: migrations run on whatever schema the database has then.
type AnyDb = Kysely<any>;

const text = 'text';
const integer = 'integer';
const real = sql`double precision`;

async function initial(db: AnyDb): Promise<void> {
  const table = (name: string) => db.schema.createTable(name).ifNotExists();
  await table('projects')
    .addColumn('id', text, (c) => c.primaryKey())
    .addColumn('name', text, (c) => c.notNull())
    .addColumn('created', text, (c) => c.notNull())
    .addColumn('current_model', text)
    .addColumn('owner', text)
    .addColumn('grp', text)
    .execute();
  await table('images')
    .addColumn('id', text, (c) => c.primaryKey())
    .addColumn('project', text, (c) => c.notNull().references('projects.id'))
    .addColumn('name', text, (c) => c.notNull())
    .addColumn('width', integer, (c) => c.notNull())
    .addColumn('height', integer, (c) => c.notNull())
    .addColumn('channels', integer, (c) => c.notNull())
    .addColumn('channel_names', text, (c) => c.notNull())
    .addColumn('dtype', text, (c) => c.notNull())
    .addColumn('levels', integer, (c) => c.notNull())
    .addColumn('norm', text, (c) => c.notNull())
    .addColumn('created', text, (c) => c.notNull())
    .execute();
  await table('strokes')
    .addColumn('image', text, (c) => c.notNull())
    .addColumn('seq', integer, (c) => c.notNull())
    .addColumn('entry', text, (c) => c.notNull())
    .addPrimaryKeyConstraint('strokes_pk', ['image', 'seq'])
    .execute();
  await table('models')
    .addColumn('id', text, (c) => c.primaryKey())
    .addColumn('project', text, (c) => c.notNull())
    .addColumn('record', text, (c) => c.notNull())
    .addColumn('created', text, (c) => c.notNull())
    .execute();
  await table('predictions')
    .addColumn('image', text, (c) => c.notNull())
    .addColumn('model', text, (c) => c.notNull())
    .addColumn('status', text, (c) => c.notNull())
    .addColumn('cells', integer)
    .addColumn('mean_entropy', real)
    .addColumn('tiles', text)
    .addColumn('created', text, (c) => c.notNull())
    .addPrimaryKeyConstraint('predictions_pk', ['image', 'model'])
    .execute();
  await table('jobs')
    .addColumn('id', text, (c) => c.primaryKey())
    .addColumn('project', text, (c) => c.notNull())
    .addColumn('kind', text, (c) => c.notNull())
    .addColumn('status', text, (c) => c.notNull())
    .addColumn('image', text)
    .addColumn('options', text, (c) => c.notNull())
    .addColumn('progress', text, (c) => c.notNull())
    .addColumn('error', text)
    .addColumn('result', text)
    .addColumn('log', text, (c) => c.notNull().defaultTo(''))
    .addColumn('created', text, (c) => c.notNull())
    .addColumn('updated', text, (c) => c.notNull())
    .addColumn('author', text)
    .execute();
  await db.schema.createIndex('jobs_by_project').ifNotExists().on('jobs').columns(['project', 'status']).execute();
  await table('labels')
    .addColumn('image', text, (c) => c.notNull())
    .addColumn('tag', text, (c) => c.notNull())
    .addColumn('ext', text, (c) => c.notNull())
    .addColumn('info', text, (c) => c.notNull())
    .addColumn('created', text, (c) => c.notNull())
    .addPrimaryKeyConstraint('labels_pk', ['image', 'tag'])
    .execute();
  await table('image_info')
    .addColumn('image', text, (c) => c.primaryKey())
    .addColumn('info', text, (c) => c.notNull())
    .execute();
  await table('users')
    .addColumn('id', text, (c) => c.primaryKey())
    .addColumn('name', text, (c) => c.notNull().unique())
    .addColumn('hash', text, (c) => c.notNull())
    .addColumn('admin', integer, (c) => c.notNull().defaultTo(0))
    .addColumn('disabled', integer, (c) => c.notNull().defaultTo(0))
    .addColumn('home_group', text)
    .addColumn('created', text, (c) => c.notNull())
    .execute();
  await table('groups')
    .addColumn('id', text, (c) => c.primaryKey())
    .addColumn('name', text, (c) => c.notNull().unique())
    .addColumn('level', text, (c) => c.notNull())
    .addColumn('created', text, (c) => c.notNull())
    .execute();
  await table('members')
    .addColumn('grp', text, (c) => c.notNull().references('groups.id').onDelete('cascade'))
    .addColumn('user', text, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('owner', integer, (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('members_pk', ['grp', 'user'])
    .execute();
  await table('credentials')
    .addColumn('hash', text, (c) => c.primaryKey())
    .addColumn('id', text, (c) => c.notNull().unique())
    .addColumn('user', text, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('kind', text, (c) => c.notNull())
    .addColumn('label', text, (c) => c.notNull())
    .addColumn('access', text, (c) => c.notNull())
    .addColumn('created', text, (c) => c.notNull())
    .addColumn('expires', text)
    .execute();
  await table('invites')
    .addColumn('hash', text, (c) => c.primaryKey())
    .addColumn('created_by', text, (c) => c.notNull())
    .addColumn('created', text, (c) => c.notNull())
    .addColumn('expires', text, (c) => c.notNull())
    .addColumn('used_by', text)
    .execute();
  await table('work_sessions')
    .addColumn('id', text, (c) => c.primaryKey())
    .addColumn('user', text, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('project', text, (c) => c.notNull())
    .addColumn('status', text, (c) => c.notNull())
    .addColumn('created', text, (c) => c.notNull())
    .addColumn('expires', text, (c) => c.notNull())
    .addColumn('warned', integer, (c) => c.notNull().defaultTo(0))
    .addColumn('used', text, (c) => c.notNull())
    .execute();
  await table('catalogue')
    .addColumn('id', text, (c) => c.primaryKey())
    .addColumn('series', text, (c) => c.notNull())
    .addColumn('model', text, (c) => c.notNull())
    .addColumn('publisher', text, (c) => c.notNull())
    .addColumn('visibility', text, (c) => c.notNull())
    .addColumn('grp', text)
    .addColumn('record', text, (c) => c.notNull())
    .addColumn('created', text, (c) => c.notNull())
    .addColumn('superseded_by', text)
    .execute();
  await table('catalogue_uses')
    .addColumn('entry', text, (c) => c.notNull().references('catalogue.id'))
    .addColumn('user', text, (c) => c.notNull())
    .addColumn('kind', text, (c) => c.notNull())
    .addColumn('at', text, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('catalogue_uses_by_entry')
    .ifNotExists()
    .on('catalogue_uses')
    .columns(['entry', 'kind'])
    .execute();
  await db.schema.createIndex('catalogue_by_model').ifNotExists().unique().on('catalogue').column('model').execute();
}

/** Columns added to tables after they first shipped, missing from data folders made before. */
async function addedColumns(db: AnyDb): Promise<void> {
  const tables = await db.introspection.getTables();
  const has = (table: string, column: string) =>
    tables.find((t) => t.name === table)?.columns.some((c) => c.name === column) ?? false;
  for (const [table, column] of [
    ['projects', 'owner'],
    ['projects', 'grp'],
    ['jobs', 'author'],
  ] as const) {
    if (!has(table, column)) await db.schema.alterTable(table).addColumn(column, text).execute();
  }
}

/**
 * One running training per project, and per account where jobs have an author, whichever bridge
 * node started it: the database refuses a second, so two nodes deciding at once cannot both start
 * one. Older duplicates (none should exist: each node kept the rule for itself) are failed first.
 */
async function oneTrainingAtATime(db: AnyDb): Promise<void> {
  await sql`update jobs set status = 'failed', error = 'another training of its project or author was running'
    where kind = 'train' and status = 'running' and exists (
      select 1 from jobs later where later.kind = 'train' and later.status = 'running'
        and (later.project = jobs.project or later.author = jobs.author)
        and (later.created > jobs.created or (later.created = jobs.created and later.id > jobs.id)))`.execute(db);
  const running = sql<boolean>`kind = 'train' and status = 'running'`;
  await db.schema
    .createIndex('jobs_one_training_per_project')
    .ifNotExists()
    .unique()
    .on('jobs')
    .column('project')
    .where(running)
    .execute();
  await db.schema
    .createIndex('jobs_one_training_per_author')
    .ifNotExists()
    .unique()
    .on('jobs')
    .column('author')
    .where(sql<boolean>`${running} and author is not null`)
    .execute();
}

const MIGRATIONS: Record<string, Migration> = {
  '0001-initial': { up: initial },
  '0002-added-columns': { up: addedColumns },
  '0003-one-training-at-a-time': { up: oneTrainingAtATime },
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/** Brings the database to the newest schema; throws with the failing migration's error. */
export async function migrate(db: AnyDb): Promise<void> {
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (!error) return;
  const failed = results?.find((r) => r.status === 'Error')?.migrationName;
  // No migration ran: the database was not reached (or its lock table could not be made).
  if (!failed) throw error;
  throw new Error(`database migration ${failed} failed: ${(error as Error).message ?? error}`, { cause: error });
}
