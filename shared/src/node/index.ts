export * from './backend.js';
export * from './files.js';
