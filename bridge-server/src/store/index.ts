// The datastore for tools and tests (`@impartial/bridge-server/store`): the index on SQLite or
// PostgreSQL, its tables, and the stroke log.
export { type DatabaseTarget, type Db, isUniqueViolation, openDatabase } from './database/open.js';
export { type ImageNorm, publicImage, Store, type StoredImage, type StoreOptions } from './store.js';
export { StrokeEntries } from './strokes/entries.js';
