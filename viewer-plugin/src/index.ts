export { BridgeClient } from './bridge-client.js';
export { ImpartialViewer } from './impartial-viewer.js';
