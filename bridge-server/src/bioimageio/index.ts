export { buildPackage, type ExportInput, type ExportResult, ONNX_TOLERANCE } from './export.js';
export { type ImportedPackage, PACKAGE_LIMITS, readPackage } from './import.js';
export { exportInWorker, importInWorker } from './in-worker.js';
export type { PackageMeta } from './rdf.js';
export { licenceIds } from './schema.js';
