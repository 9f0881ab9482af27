export { ImpartialViewer } from './impartial-viewer.js';
export { BridgeClient } from './bridge-client.js';
