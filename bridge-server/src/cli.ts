import { ImpartialError } from '@impartial/shared';
import { UsageError } from './cli/args.js';
import { BENCH_HELP, benchCommand } from './commands/bench.js';
import { DEMO_HELP, demoCommand } from './commands/demo.js';
import { EVAL_HELP, evalCommand } from './commands/eval.js';
import { EXPORT_MODEL_HELP, exportModelCommand } from './commands/export-model.js';
import { INFER_HELP, inferCommand } from './commands/infer.js';
import { PRETRAIN_HELP, pretrainCommand } from './commands/pretrain.js';
import { SERVE_HELP, serveCommand } from './commands/serve.js';
import { TRAIN_HELP, trainCommand } from './commands/train.js';
import { GROUPS_HELP, groupsCommand, USERS_HELP, usersCommand } from './commands/users.js';
import { WORKER_HELP, workerCommand } from './commands/worker.js';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; help: string }> = {
  eval: { run: evalCommand, help: EVAL_HELP },
  train: { run: trainCommand, help: TRAIN_HELP },
  infer: { run: inferCommand, help: INFER_HELP },
  'export-model': { run: exportModelCommand, help: EXPORT_MODEL_HELP },
  bench: { run: benchCommand, help: BENCH_HELP },
  demo: { run: demoCommand, help: DEMO_HELP },
  pretrain: { run: pretrainCommand, help: PRETRAIN_HELP },
  serve: { run: serveCommand, help: SERVE_HELP },
  users: { run: usersCommand, help: USERS_HELP },
  groups: { run: groupsCommand, help: GROUPS_HELP },
  worker: { run: workerCommand, help: WORKER_HELP },
};

const USAGE = `impartial <command> [options]

Commands:
  serve   the local bridge: datastore, training, live sync for web viewers and Fiji
  demo    the whole loop on built-in synthetic data
  eval    accuracy on images with ground truth (synthetic scribbles)
  train   train a model from outlines or scribbles
  infer   predict probability, entropy and instances, written as OME-Zarr, ROI zip and GeoJSON
  export-model  a model version as a bioimage.io package (ONNX + TF.js weights, rdf.yaml)
  bench   speed figures
  pretrain  make the generic starting model from synthetic cells
  users   accounts of a multi-user bridge (serve --users): add, list, disable, tokens
  groups  groups and their levels (private, read-only, read-annotate, read-write)
  worker  runs the jobs of bridges started with --queue, on any machine (one per GPU)

Environment: IMPARTIAL_BACKEND=webgpu|wasm|cpu forces a backend; IMPARTIAL_WASM_THREADS=N.
Run 'impartial <command> --help' for a command's options.`;

/** Runs the CLI; returns the exit code (0 ok, 1 bad input or failure, 2 usage). */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`impartial: unknown command "${name}"\n\n${USAGE}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.help}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`impartial ${name}: ${e.message}\n\n${command.help}\n`);
      return 2;
    }
    if (e instanceof ImpartialError) {
      process.stderr.write(`impartial ${name}: ${(e as Error).message}\n`);
      return 1;
    }
    process.stderr.write(`impartial ${name}: ${(e as Error).stack ?? e}\n`);
    return 1;
  }
}
