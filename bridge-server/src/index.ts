export { main } from './cli.js';
export { parseArgs, UsageError } from './cli/args.js';
export { lossCurveSvg } from './cli/loss-plot.js';
export { startBridge, type Bridge, type BridgeOptions } from './http/server.js';
export { ensureDemoProject } from './commands/serve.js';
export { BridgeError } from './store/errors.js';
export { tileOrder } from './jobs/infer-task.js';
export { importImage } from './store/import.js';
export { memorySource } from './store/sources.js';
