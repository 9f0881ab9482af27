export * from './version.js';
export * from './strokes.js';
export * from './records.js';
export * from './messages.js';
export * from './fiji.js';
