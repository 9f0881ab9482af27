export { DEFAULT_URL_POLICY, isPublicAddress, type UrlPolicy } from './guarded-fetch.js';
export { openOmeZarrSource } from './ome-zarr.js';
export { openSourcePath, openUpload } from './open.js';
export { pngSource } from './png.js';
export {
  checkImageSize,
  DEFAULT_IMPORT_LIMITS,
  type ImportLimits,
  memorySource,
  type OpenedSource,
} from './source.js';
export { openTiffSource } from './tiff.js';
