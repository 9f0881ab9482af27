export { main } from './cli.js';
export { parseArgs, UsageError } from './cli/args.js';
export { lossCurveSvg } from './cli/loss-plot.js';
