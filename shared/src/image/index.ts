export { type PaintCost, type PaintTarget, paintStroke, type StrokePoint, strokeArea } from './brush.js';
export {
  chooseInstanceParameters,
  type InstanceParameters,
  keepLabels,
  outlineAgreement,
  outlineF1,
  scoreThresholds,
  seedMinSizeFor,
  THRESHOLD_SWEEP,
} from './calibration.js';
export { labelOutlines, signedArea } from './contours.js';
export { type Box, cropImage, labelledBox } from './crop.js';
export {
  CORE_DEPTH,
  coreMap,
  DEFAULT_INSTANCE_OPTIONS,
  type InstanceOptions,
  probabilityToInstances,
  SEPARATIONS,
  type Separation,
} from './instances.js';
export { AP_THRESHOLDS, type MatchScores, matchInstances, meanScores } from './metrics.js';
export {
  connectedComponents,
  dilateIntoBackground,
  distanceTransform,
  erode,
  erodeSquare,
  innerOutline,
  labelAreas,
  removeSmallObjects,
  skeletonize,
} from './morphology.js';
export { type NormalizationRange, normalizeImage, percentileRange, percentiles } from './normalize.js';
export { DEFAULT_OUTLINE_FILL, fillOutlinedCells, type OutlineFillOptions, outlinedCells } from './outline-fill.js';
export { outlinesToStrokes, type TracedStroke } from './outline-strokes.js';
export { type PatchBatch, PatchSampler, type SamplerOptions } from './patches.js';
export { Random } from './random.js';
export { fillPolygon, type Polygon, polygonsToLabels } from './rasterize.js';
export { compositeRgb, drawOutlines, heatRgb, sideBySide } from './render.js';
export {
  countScribbles,
  instancesToScribbles,
  outlinesToScribbles,
  type ScribbleRaster,
  type SynthesisOptions,
  type SynthesisResult,
  synthesizeScribbles,
} from './scribbles.js';
export { type RasterDrawing, rasterizeDrawings, SparseRaster } from './sparse-raster.js';
export {
  type BlockRect,
  type BlockRewrite,
  InstanceStitcher,
  relabelBlock,
  type StitchedBlock,
} from './stitch.js';
export { type SyntheticOptions, type SyntheticSample, syntheticCells } from './synthetic.js';
export { type SyntheticSlideOptions, syntheticSlideLabels, syntheticSlideSource } from './synthetic-slide.js';
export {
  type FloatImage,
  type LabelImage,
  type MultiChannelImage,
  type PixelArray,
  type RegionSource,
  SCRIBBLE_BACKGROUND,
  SCRIBBLE_FOREGROUND,
  type SourceDtype,
  selectChannels,
} from './types.js';
