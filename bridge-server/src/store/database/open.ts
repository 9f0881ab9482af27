import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { badRequest, ImpartialError } from '../../errors.js';
import { migrate } from './migrations.js';
import type { Schema } from './schema.js';

export type Db = Kysely<Schema>;

/** Which database holds the index: the data folder's SQLite file, or a PostgreSQL server. */
export type DatabaseTarget = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

/** Parses `--db`: a postgres:// or postgresql:// URL (anything else is refused). */
export function postgresTarget(url: string): DatabaseTarget {
  if (!/^postgres(ql)?:\/\//.test(url)) throw badRequest(`--db must be a postgres:// URL, got ${redacted(url)}`);
  return { kind: 'postgres', url };
}

// COUNT(*) and other int8 results: numbers, as SQLite gives (counts stay far below 2^53).
const INT8 = 20;

/**
 * Opens the index and migrates it. SQLite: WAL with synchronous=FULL, so a committed insert is on
 * disk when the query resolves (what lets a stroke be acknowledged right after it). PostgreSQL:
 * a pool; a commit is durable when it resolves.
 */
export async function openDatabase(target: DatabaseTarget): Promise<Db> {
  let db: Db;
  if (target.kind === 'sqlite') {
    const sqlite = new Database(target.file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: sqlite }) });
  } else {
    const pool = new pg.Pool({
      connectionString: target.url,
      max: 10,
      types: { getTypeParser: (oid, format) => (oid === INT8 ? Number : pg.types.getTypeParser(oid, format)) },
    });
    db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  }
  try {
    await migrate(db);
  } catch (e) {
    await db.destroy();
    if (target.kind === 'postgres' && !(e as Error).message.startsWith('database migration')) {
      throw new ImpartialError('unreachable', `PostgreSQL at ${redacted(target.url)}: ${(e as Error).message}`);
    }
    throw e;
  }
  return db;
}

/** A server's URL without its password, for messages. */
export function redacted(url: string): string {
  return url.replace(/(\/\/[^:/@]+):[^@]*@/, '$1:***@');
}

/**
 * Another connection to the same SQLite file (a second process on the data folder) wrote first
 * while this transaction read: it must start again.
 */
export function isBusy(e: unknown): boolean {
  return String((e as { code?: string }).code ?? '').startsWith('SQLITE_BUSY');
}

/** A unique or primary-key constraint refused a row (SQLite's and PostgreSQL's codes). */
export function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}
