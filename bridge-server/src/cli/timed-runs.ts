import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/*
 * Commands whose figures depend on the CPU being theirs (eval, bench, train)
 * register here, one file per process in the system's temp folder. Two of them side by side on a
 * 2-core machine each train several times slower, so a run that finds another can say so instead
 * of reporting figures that look like a regression.
 */

export interface OtherRun {
  pid: number;
  command: string;
}

export interface TimedRun {
  /** The other registered commands still running (files of processes that have ended are removed). */
  others(): OtherRun[];
  /** Unregisters this process (also done when it exits). */
  release(): void;
}

export const TIMED_RUNS_DIR = path.join(tmpdir(), 'impartial-timed-runs');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Registers this process as running `command`, in `dir` (tests give their own). Best effort: where the
 * folder cannot be written (another user's, a read-only temp), the run goes on unregistered.
 */
export function registerTimedRun(command: string, dir = TIMED_RUNS_DIR): TimedRun {
  const own = path.join(dir, `${process.pid}.json`);
  const release = () => ignoringErrors(() => rmSync(own, { force: true }));
  ignoringErrors(() => {
    mkdirSync(dir, { recursive: true });
    // Every user's timed runs share the CPU: the folder is writable by all, each file only by its owner.
    ignoringErrors(() => chmodSync(dir, 0o1777));
    writeFileSync(own, JSON.stringify({ command }));
    process.once('exit', release);
  });
  return {
    others() {
      const found: OtherRun[] = [];
      for (const name of ignoringErrors(() => readdirSync(dir)) ?? []) {
        const pid = Number(name.replace(/\.json$/, ''));
        if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) continue;
        const file = path.join(dir, name);
        if (!alive(pid)) {
          ignoringErrors(() => rmSync(file, { force: true }));
          continue;
        }
        const written = ignoringErrors(() => JSON.parse(readFileSync(file, 'utf8')).command);
        found.push({ pid, command: typeof written === 'string' ? written : 'a command' });
      }
      return found;
    },
    release() {
      process.off('exit', release);
      release();
    },
  };
}

/** `f()`, or undefined where it throws: the registry is advice and never stops a command. */
function ignoringErrors<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

/** "impartial eval (pid 123), impartial bench (pid 456)" */
export function describeOthers(others: readonly OtherRun[]): string {
  return others.map((o) => `impartial ${o.command} (pid ${o.pid})`).join(', ');
}

/** Registers a timed command and warns on stderr when others run beside it. */
export function startTimedRun(command: string, warn: (message: string) => void): TimedRun {
  const run = registerTimedRun(command);
  const others = run.others();
  if (others.length)
    warn(
      `warning: ${describeOthers(others)} is running on this machine too; the CPU is shared, so ` +
        'timings are slower and a time budget buys fewer steps',
    );
  return run;
}

/** Runs `work`, noting the other timed commands seen meanwhile (looked for every few seconds). */
export async function watchingOthers<T>(
  run: TimedRun,
  work: () => Promise<T>,
): Promise<{ value: T; others: string[] }> {
  const seen = new Map<number, string>();
  const look = () => {
    for (const o of run.others()) seen.set(o.pid, describeOthers([o]));
  };
  look();
  const timer = setInterval(look, 5000);
  try {
    const value = await work();
    look();
    return { value, others: [...seen.values()] };
  } finally {
    clearInterval(timer);
  }
}
