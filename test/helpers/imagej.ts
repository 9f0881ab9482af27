import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repo } from './cli.js';
import { waitFor } from './wait.js';

/*
 * Real ImageJ 1.53t (Debian's imagej) in GUI mode on a private Xvfb display, running the bridge
 * toolset's functions plus a test body. Every run is under a timeout; when it fires (a macro
 * error opens a modal dialog that would wait for ever) a screenshot is kept in test/artifacts.
 */

export const IJ_JAR = '/usr/share/java/ij.jar';
export const artifacts = path.join(repo, 'test', 'artifacts');

/** Why ImageJ tests cannot run here, or undefined. Never skipped in CI (.ci/run installs imagej and xvfb). */
export function imagejMissing(): string | undefined {
  if (!existsSync(IJ_JAR)) return `ImageJ is not installed (${IJ_JAR}; apt-get install -y imagej xvfb)`;
  if (spawnSync('which', ['Xvfb']).status !== 0) return 'Xvfb is not installed (apt-get install -y xvfb)';
  if (spawnSync('which', ['javac']).status !== 0)
    return 'javac is not installed (needed for the timeout screenshot helper)';
  return undefined;
}

export interface Display {
  name: string;
  stop(): void;
  shotClasses: string;
}

/** A private X display for ImageJ windows, and the compiled screenshot helper. */
export async function startDisplay(): Promise<Display> {
  let n = 90;
  while (existsSync(`/tmp/.X${n}-lock`) || existsSync(`/tmp/.X11-unix/X${n}`)) n++;
  const xvfb: ChildProcess = spawn('Xvfb', [`:${n}`, '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], {
    stdio: 'ignore',
  });
  try {
    await waitFor(() => existsSync(`/tmp/.X11-unix/X${n}`), { timeoutMs: 10_000, what: `Xvfb's display :${n}` });
  } catch (e) {
    xvfb.kill('SIGKILL');
    throw e;
  }
  const shotClasses = await mkdtemp(path.join(tmpdir(), 'ij-shot-'));
  await writeFile(
    path.join(shotClasses, 'Shot.java'),
    `import java.awt.*; import java.io.*; import javax.imageio.*;
public class Shot { public static void main(String[] a) throws Exception {
  Rectangle screen = new Rectangle(Toolkit.getDefaultToolkit().getScreenSize());
  ImageIO.write(new Robot().createScreenCapture(screen), "png", new File(a[0])); } }
`,
  );
  spawnSync('javac', ['-d', shotClasses, path.join(shotClasses, 'Shot.java')]);
  return {
    name: `:${n}`,
    shotClasses,
    stop: () => {
      xvfb.kill('SIGKILL');
    },
  };
}

/** The toolset's variables and functions (everything before its menu section). */
export async function toolsetFunctions(): Promise<string> {
  const text = await readFile(path.join(repo, 'fiji-bridge', 'ImPartial_Bridge.ijm'), 'utf8');
  const cut = text.indexOf('// ---- menu');
  if (cut < 0) throw new Error('ImPartial_Bridge.ijm has no "// ---- menu" section marker');
  return text.slice(0, cut);
}

export interface MacroRun {
  log: string;
  code: number;
  ms: number;
}

/**
 * Runs `body` after the toolset's functions in ImageJ on `display`. The body's print() lines come
 * back as `log`. On timeout: a screenshot at test/artifacts/NAME-timeout.png, then a failure.
 */
export async function runImageJ(display: Display, name: string, body: string, timeoutMs = 60_000): Promise<MacroRun> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ij-run-'));
  const logFile = path.join(dir, 'log.txt');
  const macro = `${await toolsetFunctions()}
${body}
File.saveString(getInfo("log"), "${logFile}");
d = call("java.lang.System.exit", "0");
`;
  const file = path.join(dir, `${name}.ijm`);
  await writeFile(file, macro);
  const t0 = performance.now();
  const child = spawn(
    'java',
    [
      '-Xmx1g',
      '-Dsun.net.client.defaultReadTimeout=40000',
      '-cp',
      IJ_JAR,
      'ij.ImageJ',
      '-ijpath',
      path.join(dir, 'home'),
      '-port0',
      '-macro',
      file,
    ],
    { env: { ...process.env, DISPLAY: display.name }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const code = await new Promise<number | 'timeout'>((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), timeoutMs);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c ?? -1);
    });
  });
  if (code === 'timeout') {
    await mkdir(artifacts, { recursive: true });
    const shot = path.join(artifacts, `${name}-timeout.png`);
    spawnSync('java', ['-cp', display.shotClasses, 'Shot', shot], {
      env: { ...process.env, DISPLAY: display.name },
      timeout: 20_000,
    });
    child.kill('SIGKILL');
    throw new Error(
      `ImageJ macro ${name} timed out after ${timeoutMs} ms (a dialog is probably open: see ${shot})\n${output}`,
    );
  }
  const log = existsSync(logFile) ? await readFile(logFile, 'utf8') : '';
  return { log, code, ms: performance.now() - t0 };
}

/** key=value lines a test macro printed. */
export function printed(log: string): Record<string, string> {
  return Object.fromEntries(
    log
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}
