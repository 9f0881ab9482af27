export { outlinesToGeoJson } from './geojson.js';
export {
  decodeRoi,
  encodeRoi,
  polygonsToRois,
  type Roi,
  RoiFormatError,
  RoiType,
  type RoiTypeName,
  readRoiZip,
  roisToPolygons,
  writeRoiZip,
} from './imagej-roi.js';
export {
  type Dtype,
  downsamplePlane,
  multiscales,
  type OmeZarrInfo,
  openArray,
  pyramidLevels,
  type ReadableStore,
  readJson,
  readOmeZarrImage,
  readOmeZarrInfo,
  readOmeZarrLabels,
  readRegion,
  type WritableStore,
  writeRegion,
} from './ome-zarr.js';
export type { ChannelDisplay, LabelColors, Mode, PyramidOptions } from './ome-zarr-metadata.js';
export {
  createOmeZarrImage,
  createOmeZarrLabels,
  type PyramidTarget,
  rebuildCoarseLevels,
  writePyramidRect,
} from './ome-zarr-rects.js';
export {
  type ImageWriteInput,
  type LabelWriteOptions,
  planesOf,
  type StreamPyramidOptions,
  writeOmeZarrFromSource,
  writeOmeZarrImage,
  writeOmeZarrLabels,
} from './ome-zarr-write.js';
export { encodePng } from './png.js';
export {
  type ChannelLayout,
  imagejChannelLayout,
  omeChannelLayout,
  readLabelTiff,
  readTiff,
  tiffChannelPages,
} from './tiff.js';
export { TiffFormatError, type TiffLimits } from './tiff-checks.js';
export { imagejHyperstack, labelTiff, type TiffPage, type TiffPixels, toArrayBuffer, writeTiff } from './tiff-write.js';
export { readZip, type ZipLimits } from './zip.js';
