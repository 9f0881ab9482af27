export * from './errors.js';
export * from './fiji.js';
export * from './ids.js';
export * from './messages.js';
export * from './records.js';
export * from './settings.js';
export * from './strokes.js';
export * from './version.js';
