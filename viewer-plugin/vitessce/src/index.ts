export { channelsOf, type Scale, type SpatialView, toPhysical, toPixels, withChannels } from './coordinates.js';
export { COORDINATION_TYPES, ImpartialView, type ImpartialViewProps, impartialViewType } from './impartial-view.js';
export { type FramedImage, ViewerFrame } from './viewer-frame.js';
