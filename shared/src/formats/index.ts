export * from './geojson.js';
export * from './imagej-roi.js';
export * from './ome-zarr.js';
export * from './ome-zarr-stream.js';
export * from './png.js';
export * from './tiff.js';
export * from './tiff-write.js';
