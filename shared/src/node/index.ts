export * from './backend.js';
export * from './files.js';
export * from './generic-model.js';
