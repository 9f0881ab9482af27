import { syntheticCells } from '@impartial/shared';
import { parseArgs, UsageError } from '../cli/args.js';
import { log } from '../cli/progress.js';
import { startBridge, type Bridge } from '../http/server.js';
import { BridgeError } from '../store/errors.js';
import { importImage } from '../store/import.js';
import { memorySource } from '../store/sources.js';

export const SERVE_HELP = `impartial serve [--data DIR] [--host 127.0.0.1] [--port 8000] [--token T | --no-auth] [options]

The local bridge: stores images, strokes, models and predictions, runs training and inference,
and keeps every web viewer and Fiji in sync. HTTP and WebSocket on one port.

  --data DIR              data folder (default ./impartial-data)
  --host H --port N       where to listen (default 127.0.0.1:8000; port 0 picks a free one)
  --token T               the token clients must send (default: a new random one each start)
  --no-auth               no token (refused unless the host is loopback)
  --allow-origin URL...   web pages on these origins may call the bridge (besides its own)
  --import-root DIR...    folders images may be imported from by path (default: the current folder)
  --max-upload-mb N       largest image upload (default 2048)
  --demo                  add a demo project with synthetic multiplexed images if it is missing
  --monai-project P       the project MONAI Label clients (the ImPartial Fiji plugin, 3D Slicer,
                          QuPath) see as their datastore (default monai)

MONAI Label clients connect to the same URL. The ImPartial Fiji plugin's local mode sends no
token: run it against 'impartial serve --no-auth' (loopback only); its cloud mode's raw
Authorization header and /proxy prefix are accepted.`;

const DEMO_PROJECT = 'demo';

/** The demo project: two synthetic 2-channel tissue images, made once. */
export async function ensureDemoProject(bridge: Bridge): Promise<void> {
  try {
    bridge.store.project(DEMO_PROJECT);
    return;
  } catch (e) {
    if (!(e instanceof BridgeError) || e.code !== 'not-found') throw e;
  }
  bridge.store.createProject('Demo: synthetic multiplexed tissue', DEMO_PROJECT);
  for (const seed of [1, 2]) {
    const { image } = syntheticCells({ width: 512, height: 512, channels: 2, seed });
    await importImage(bridge.store, memorySource(image), { project: DEMO_PROJECT, name: `synthetic-${seed}` });
  }
}

export async function serveCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, {
    data: { kind: 'string', default: 'impartial-data' }, host: { kind: 'string', default: '127.0.0.1' }, port: { kind: 'number', default: 8000 },
    token: { kind: 'string' }, auth: { kind: 'boolean', default: true }, 'allow-origin': { kind: 'list' }, 'import-root': { kind: 'list' },
    'max-upload-mb': { kind: 'number', default: 2048 }, demo: { kind: 'boolean', default: false }, 'monai-project': { kind: 'string', default: 'monai' },
  });
  if (a._.length) throw new UsageError(`unexpected argument ${a._[0]}`);
  const port = a['port'] as number;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be 0-65535');
  if (a['auth'] === false && a['token'] !== undefined) throw new UsageError('give --token or --no-auth, not both');
  let bridge: Bridge;
  try {
    bridge = await startBridge({
      data: a['data'] as string, host: a['host'] as string, port,
      token: a['auth'] === false ? null : (a['token'] as string | undefined),
      allowOrigins: (a['allow-origin'] as string[] | undefined) ?? [], importRoots: (a['import-root'] as string[] | undefined) ?? [process.cwd()],
      maxUploadMb: a['max-upload-mb'] as number, monaiProject: a['monai-project'] as string,
    });
  } catch (e) {
    if (e instanceof BridgeError) throw new UsageError(e.message);
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new UsageError(`port ${port} is in use; choose another with --port (0 picks a free one)`);
    throw e;
  }
  if (a['demo']) await ensureDemoProject(bridge);
  process.stdout.write(`ImPartial bridge listening on ${bridge.publicUrl}\n`);
  log(`viewer: ${bridge.viewerUrl}`);
  log(`data: ${bridge.store.layout.root}`);
  // A bug in one request must not take the bridge down with every client's session.
  process.on('uncaughtException', (e) => log(`error (the bridge keeps running): ${e.stack ?? e}`));
  process.on('unhandledRejection', (e) => log(`error (the bridge keeps running): ${(e as Error)?.stack ?? e}`));
  await new Promise<void>((resolve) => {
    const stop = () => { log('stopping'); void bridge.close().then(resolve); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
