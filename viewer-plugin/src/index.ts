/**
 * <impartial-viewer> lands with the viewer issue; until then this package only re-exports the
 * shared pieces the viewer will use, so the workspace and its dependency direction exist.
 */
export { loadModelFromUrl, predict, probabilityToInstances } from '@impartial/shared';
