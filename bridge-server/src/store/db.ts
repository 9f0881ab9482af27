import Database from 'better-sqlite3';

/*
 * The index of the datastore. WAL with synchronous=FULL: a committed insert is on disk when
 * run() returns, which is what lets a stroke be acknowledged right after it.
 */

const SCHEMA = `
CREATE TABLE IF NOT EXISTS projects (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, created TEXT NOT NULL, current_model TEXT);
CREATE TABLE IF NOT EXISTS images (
  id TEXT PRIMARY KEY, project TEXT NOT NULL REFERENCES projects(id), name TEXT NOT NULL,
  width INTEGER NOT NULL, height INTEGER NOT NULL, channels INTEGER NOT NULL, channel_names TEXT NOT NULL,
  dtype TEXT NOT NULL, levels INTEGER NOT NULL, norm TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS strokes (
  image TEXT NOT NULL, seq INTEGER NOT NULL, entry TEXT NOT NULL, PRIMARY KEY (image, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS models (
  id TEXT PRIMARY KEY, project TEXT NOT NULL, record TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS predictions (
  image TEXT NOT NULL, model TEXT NOT NULL, status TEXT NOT NULL, cells INTEGER, mean_entropy REAL,
  tiles TEXT, created TEXT NOT NULL, PRIMARY KEY (image, model));
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY, project TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL, image TEXT,
  options TEXT NOT NULL, progress TEXT NOT NULL, error TEXT, result TEXT, log TEXT NOT NULL DEFAULT '',
  created TEXT NOT NULL, updated TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_by_project ON jobs (project, status);
CREATE TABLE IF NOT EXISTS labels (
  image TEXT NOT NULL, tag TEXT NOT NULL, ext TEXT NOT NULL, info TEXT NOT NULL, created TEXT NOT NULL,
  PRIMARY KEY (image, tag));
CREATE TABLE IF NOT EXISTS image_info (image TEXT PRIMARY KEY, info TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, hash TEXT NOT NULL, admin INTEGER NOT NULL DEFAULT 0,
  disabled INTEGER NOT NULL DEFAULT 0, home_group TEXT, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS groups (
  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, level TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS members (
  grp TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE, user TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  owner INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (grp, user)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS credentials (
  hash TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, user TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind TEXT NOT NULL, label TEXT NOT NULL, access TEXT NOT NULL, created TEXT NOT NULL, expires TEXT);
CREATE TABLE IF NOT EXISTS invites (
  hash TEXT PRIMARY KEY, created_by TEXT NOT NULL, created TEXT NOT NULL, expires TEXT NOT NULL, used_by TEXT);
CREATE TABLE IF NOT EXISTS work_sessions (
  id TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, project TEXT NOT NULL,
  status TEXT NOT NULL, created TEXT NOT NULL, expires TEXT NOT NULL, warned INTEGER NOT NULL DEFAULT 0,
  used TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS catalogue (
  id TEXT PRIMARY KEY, series TEXT NOT NULL, model TEXT NOT NULL, publisher TEXT NOT NULL, visibility TEXT NOT NULL,
  grp TEXT, record TEXT NOT NULL, created TEXT NOT NULL, superseded_by TEXT);
CREATE TABLE IF NOT EXISTS catalogue_uses (
  entry TEXT NOT NULL REFERENCES catalogue(id), user TEXT NOT NULL, kind TEXT NOT NULL, at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS catalogue_uses_by_entry ON catalogue_uses (entry, kind);
CREATE UNIQUE INDEX IF NOT EXISTS catalogue_by_model ON catalogue (model);
`;

/** Columns added after a table first shipped: added to older data folders when they open. */
const ADDED_COLUMNS: Array<{ table: string; column: string; definition: string }> = [
  { table: 'projects', column: 'owner', definition: 'TEXT' },
  { table: 'projects', column: 'grp', definition: 'TEXT' },
  { table: 'jobs', column: 'author', definition: 'TEXT' },
];

function addMissingColumns(db: Database.Database): void {
  for (const { table, column, definition } of ADDED_COLUMNS) {
    const columns = db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>;
    if (!columns.some((c) => c.name === column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
  }
}

export type Db = Database.Database;

export function openDatabase(file: string): Db {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.exec(SCHEMA);
  addMissingColumns(db);
  return db;
}
