export { parseArgs, UsageError } from './cli/args.js';
export { lossCurveSvg } from './cli/loss-plot.js';
export { main } from './cli.js';
export { ensureDemoProject } from './commands/serve.js';
export { type Bridge, type BridgeOptions, startBridge } from './http/server.js';
export { tileOrder } from './jobs/infer-task.js';
export { BridgeError } from './store/errors.js';
export { importImage } from './store/import.js';
export { memorySource } from './store/sources.js';
