export * from './geojson.js';
export * from './imagej-roi.js';
export * from './ome-zarr.js';
export * from './ome-zarr-write.js';
export * from './png.js';
export * from './tiff.js';
export * from './tiff-checks.js';
export * from './tiff-write.js';
