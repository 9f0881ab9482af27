export { type Bridge, type BridgeOptions, startBridge } from './bridge.js';
export { parseArgs, UsageError } from './cli/args.js';
export { lossCurveSvg } from './cli/loss-plot.js';
export { registerTimedRun, type TimedRun } from './cli/timed-runs.js';
export { main } from './cli.js';
export { ensureDemoProject } from './commands/serve.js';
export { ImpartialError } from './errors.js';
export {
  DEFAULT_IMPORT_LIMITS,
  type ImportLimits,
  isPublicAddress,
  memorySource,
  type OpenedSource,
} from './imaging/sources/index.js';
export { inferPhases, runInferTask, tileOrder } from './jobs/infer-task.js';
export { LIVE_VIEW_SIDE, LiveInbox, liveViewport } from './jobs/live-training.js';
export { type Actor, named, type Services, SYSTEM } from './services/index.js';
