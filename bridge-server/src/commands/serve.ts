import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { syntheticCells } from '@impartial/shared';
import { type Bridge, startBridge } from '../bridge.js';
import { parseArgs, UsageError } from '../cli/args.js';
import { log } from '../cli/progress.js';
import { ImpartialError } from '../errors.js';
import { DEFAULT_IMPORT_LIMITS, memorySource, openTiffSource } from '../imaging/sources/index.js';
import { SYSTEM, type UsersOptions } from '../services/index.js';

const SERVE_USAGE =
  'impartial serve [--data DIR] [--host 127.0.0.1] [--port 8000] [--token-file F | --token T | --no-auth] [options]';

export const SERVE_HELP = `${SERVE_USAGE}

The local bridge: stores images, strokes, models and predictions, runs training and inference,
and keeps every web viewer and Fiji in sync. HTTP and WebSocket on one port.

  --data DIR              data folder (default ./impartial-data)
  --db postgres://...     keep the index (projects, strokes, jobs, accounts) in PostgreSQL instead
                          of the data folder's SQLite file; bridge nodes may share it
  --queue redis://...     several bridge nodes behind one address: they share --db and the data
                          folder, and pass live messages (strokes in log order) through Redis;
                          training and inference run on 'impartial worker' processes
  --store s3://BUCKET/PREFIX?endpoint=URL
                          keep images, models and predictions in S3-compatible object storage (the
                          data folder caches them); credentials from AWS_ACCESS_KEY_ID and
                          AWS_SECRET_ACCESS_KEY (or ~/.aws); endpoint for MinIO, Ceph or others;
                          &presign=SECONDS sends viewers to presigned URLs instead of streaming
  --host H --port N       where to listen (default 127.0.0.1:8000; port 0 picks a free one)
  --token T               the token clients must send (default: a new random one each start)
  --token-file FILE       the token read from FILE (trimmed); unlike --token it does not show in ps
  --no-auth               no token (refused unless the host is loopback)
  --allow-origin URL...   web pages on these origins may call the bridge (besides its own)
  --import-root DIR...    folders images may be imported from by path (default: none; --demo adds
                          the Vectra dev images' folder when it exists)
  --allow-import-host H... URL imports may reach these hosts although they are not public
                          (loopback, private networks); others are refused
  --max-upload-mb N       largest image upload (default 2048)
  --max-image-mpx N       largest image an import takes, width x height x channels in millions
                          (default 4000: a 20000 x 20000 x 8 slide is 3200)
  --demo                  add the demo project: synthetic tissue, the Vectra dev images (when
                          ../shared/data has them) and a procedural 20000 x 20000 x 8 slide
                          written in the background (IMPARTIAL_DEMO_SLIDE=N sets its side, 0 = none)
  --monai-project P       the project MONAI Label clients (the ImPartial Fiji plugin, 3D Slicer,
                          QuPath) see as their datastore (default monai)

Multi-user (accounts made with 'impartial users add'; no bridge token):
  --users                 people sign in (web page, personal tokens, the cloud plugin's /login,
                          MONAI's /auth/token); projects belong to accounts and groups
  --signup MODE           closed (default: admins make accounts), invite (with an admin's code), open
  --session-hours H       a work session expires H hours after it starts or is extended (default 2)
  --max-jobs N            trainings and inferences running at once; more wait in line and see
                          their place (default: no cap; trainings are one per project and per user)
  --quota-gb G            what each account's images may take on disk (default: no quota)

MONAI Label clients connect to the same URL. The ImPartial Fiji plugin's local mode sends no
token: run it against 'impartial serve --no-auth' (loopback only); its cloud mode's raw
Authorization header and /proxy prefix are accepted.`;

const DEMO_PROJECT = 'demo';
const SLIDE_NAME = 'synthetic-slide';

/** The Vectra dev images next to the repository (../shared/data/vectra-2ch), when that folder exists. */
function vectraDir(): string | null {
  const dir = fileURLToPath(new URL('../../../../shared/data/vectra-2ch/', import.meta.url));
  return existsSync(dir) ? dir : null;
}

/**
 * The demo project: two synthetic 2-channel tissue images and the Vectra dev images (when present)
 * at once, and a procedural whole-slide multiplexed image (IMPARTIAL_DEMO_SLIDE px square, default
 * 20000, 8 channels; 0 = none) written in a worker thread in the background and cached.
 */
export async function ensureDemoProject(bridge: Bridge): Promise<void> {
  const { images, projects } = bridge.services;
  const project = (await projects.ensure(SYSTEM, DEMO_PROJECT, 'Demo: synthetic multiplexed tissue')).id;
  const have = async (name: string) => (await images.byName(SYSTEM, project, name)) !== null;
  for (const seed of [1, 2]) {
    if (await have(`synthetic-${seed}`)) continue;
    const { image } = syntheticCells({ width: 512, height: 512, channels: 2, seed });
    await images.importSource(SYSTEM, project, memorySource(image), `synthetic-${seed}`);
  }
  const vectra = vectraDir();
  for (const file of vectra
    ? readdirSync(vectra)
        .filter((f) => /^image\d+\.tif$/.test(f))
        .sort()
    : []) {
    const name = `vectra-${file.replace(/\.tif$/, '')}`;
    if (await have(name)) continue;
    await images.importSource(
      SYSTEM,
      project,
      await openTiffSource(path.join(vectra!, file), DEFAULT_IMPORT_LIMITS),
      name,
    );
  }
  const side = Number(process.env.IMPARTIAL_DEMO_SLIDE ?? 20000);
  if (side > 0 && !(await have(SLIDE_NAME))) {
    log(`demo: writing a ${side} x ${side} x 8 procedural slide in the background (a few minutes; cached)`);
    images.importDemoSlide(SYSTEM, project, SLIDE_NAME, side, log).catch((e: Error) => log(`demo slide: ${e.message}`));
  }
}

function positive(n: number, flag: string): number {
  if (!(n > 0)) throw new UsageError(`${flag} must be above 0`);
  return n;
}

function usersOptions(signup: string, hours: number): UsersOptions {
  if (signup !== 'closed' && signup !== 'invite' && signup !== 'open') {
    throw new UsageError('--signup must be closed, invite or open');
  }
  if (!(hours > 0 && hours <= 24 * 365)) throw new UsageError('--session-hours must be above 0');
  return { accounts: { signup }, sessions: { hours } };
}

/** The token in a file (trimmed): a token on the command line shows in `ps` to every user of the machine. */
function readTokenFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--token-file ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  const token = text.trim();
  if (!token) throw new UsageError(`--token-file ${file} is empty`);
  if (/\s/.test(token)) throw new UsageError(`--token-file ${file}: the token is one line with no spaces`);
  return token;
}

export async function serveCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, {
    data: { kind: 'string', default: 'impartial-data' },
    db: { kind: 'string' },
    queue: { kind: 'string' },
    store: { kind: 'string' },
    host: { kind: 'string', default: '127.0.0.1' },
    port: { kind: 'number', default: 8000 },
    token: { kind: 'string' },
    'token-file': { kind: 'string' },
    auth: { kind: 'boolean', default: true },
    'allow-origin': { kind: 'list' },
    'import-root': { kind: 'list' },
    'allow-import-host': { kind: 'list' },
    'max-upload-mb': { kind: 'number', default: 2048 },
    'max-image-mpx': { kind: 'number', default: DEFAULT_IMPORT_LIMITS.maxValues / 1e6 },
    demo: { kind: 'boolean', default: false },
    'monai-project': { kind: 'string', default: 'monai' },
    users: { kind: 'boolean', default: false },
    signup: { kind: 'string', default: 'closed' },
    'session-hours': { kind: 'number', default: 2 },
    'max-jobs': { kind: 'number' },
    'quota-gb': { kind: 'number' },
  });
  if (a._.length) throw new UsageError(`unexpected argument ${a._[0]}`);
  const port = a.port as number;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be 0-65535');
  if ([a.auth === false, a.token !== undefined, a['token-file'] !== undefined].filter(Boolean).length > 1)
    throw new UsageError('give one of --token-file, --token or --no-auth');
  const token =
    a['token-file'] !== undefined ? readTokenFile(a['token-file'] as string) : (a.token as string | undefined);
  const users = a.users ? usersOptions(a.signup as string, a['session-hours'] as number) : null;
  if (users && a['quota-gb'] !== undefined)
    users.quotaBytes = positive(a['quota-gb'] as number, '--quota-gb') * 1024 ** 3;
  if (!users && a['quota-gb'] !== undefined) throw new UsageError('--quota-gb is for accounts: use it with --users');
  if (users && (token !== undefined || a.auth === false)) {
    throw new UsageError('--users signs people in with their accounts: drop --token, --token-file and --no-auth');
  }
  const vectra = a.demo ? vectraDir() : null;
  let bridge: Bridge;
  try {
    bridge = await startBridge({
      data: a.data as string,
      ...(a.db !== undefined ? { database: a.db as string } : {}),
      ...(a.queue !== undefined ? { queue: a.queue as string } : {}),
      ...(a.store !== undefined ? { objects: a.store as string } : {}),
      host: a.host as string,
      port,
      token: a.auth === false ? null : token,
      allowOrigins: (a['allow-origin'] as string[] | undefined) ?? [],
      importRoots: [...((a['import-root'] as string[] | undefined) ?? []), ...(vectra ? [vectra] : [])],
      allowImportHosts: (a['allow-import-host'] as string[] | undefined) ?? [],
      maxUploadMb: a['max-upload-mb'] as number,
      maxImageMpx: a['max-image-mpx'] as number,
      monaiProject: a['monai-project'] as string,
      users,
      ...(a['max-jobs'] !== undefined ? { maxJobs: positive(a['max-jobs'] as number, '--max-jobs') } : {}),
    });
  } catch (e) {
    if (e instanceof ImpartialError) throw new UsageError(e.message);
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new UsageError(`port ${port} is in use; choose another with --port (0 picks a free one)`);
    throw e;
  }
  if (a.demo) await ensureDemoProject(bridge);
  if (users && (await bridge.services.accounts?.listUsers())?.length === 0) {
    log(`no accounts yet: make one with 'impartial users add NAME --admin --data ${a.data} --password-stdin'`);
  }
  process.stdout.write(`ImPartial bridge listening on ${bridge.publicUrl}\n`);
  log(`viewer: ${bridge.viewerUrl}`);
  log(`in Vitessce (the example app with ImPartial's plugin view): ${bridge.viewerUrl}examples/vitessce/?image=ID`);
  log(`data: ${bridge.dataDir}${bridge.objects ? ` (a cache of ${bridge.objects})` : ''}`);
  // A bug in one request must not take the bridge down with every client's session.
  process.on('uncaughtException', (e) => log(`error (the bridge keeps running): ${e.stack ?? e}`));
  process.on('unhandledRejection', (e) => log(`error (the bridge keeps running): ${(e as Error)?.stack ?? e}`));
  await new Promise<void>((resolve) => {
    const stop = () => {
      log('stopping');
      void bridge.close().then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
