export * from './fiji.js';
export * from './messages.js';
export * from './records.js';
export * from './strokes.js';
export * from './version.js';
