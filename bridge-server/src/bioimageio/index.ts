export { buildPackage, type ExportInput, type ExportResult } from './export.js';
export type { PackageMeta } from './rdf.js';
export { licenceIds } from './schema.js';
