// The datastore for tools and tests (`@impartial/bridge-server/store`): the index on SQLite or
// PostgreSQL, its tables, the stroke log, and the folders in the data folder or object storage.
export { type DatabaseTarget, type Db, isUniqueViolation, openDatabase } from './database/open.js';
export { DataFiles } from './files.js';
export { ObjectStore, type ObjectStoreTarget, parseObjectStoreUrl } from './objects/s3.js';
export { VersionedObjects } from './objects/versioned.js';
export { type ImageNorm, publicImage, Store, type StoredImage, type StoreOptions } from './store.js';
export { StrokeEntries } from './strokes/entries.js';
