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
`;

export type Db = Database.Database;

export function openDatabase(file: string): Db {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.exec(SCHEMA);
  return db;
}
