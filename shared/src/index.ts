export * from './engine/index.js';
export * from './errors.js';
export * from './formats/index.js';
export * from './image/index.js';
export * from './protocol/index.js';
