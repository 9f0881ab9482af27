/* Record types the services hand out, for transports (which never import the store itself). */
export type { StoredImage } from '../store/store.js';
export type { LabelFile } from '../store/tables/labels.js';
