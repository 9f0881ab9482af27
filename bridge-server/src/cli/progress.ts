import cliProgress from 'cli-progress';

/**
 * A progress bar on stderr (stdout stays clean for --json); a line every 10 s when stderr is not a
 * terminal (logs, CI).
 */
export function progressBar(
  label: string,
  total: number,
  unit = '',
): { update(value: number, info?: string): void; stop(): void } {
  if (!process.stderr.isTTY) {
    let lastLog = 0;
    return {
      update(value, info = '') {
        const now = Date.now();
        if (now - lastLog > 10_000 || value >= total) {
          lastLog = now;
          process.stderr.write(`${label} ${Math.round(value)}/${Math.round(total)}${unit} ${info}\n`);
        }
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {value}/{total}${unit} {info}`,
      hideCursor: true,
      stream: process.stderr,
      barsize: 30,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(Math.round(total), 0, { info: '' });
  return {
    update(value, info = '') {
      bar.update(Math.min(Math.round(value), Math.round(total)), { info });
    },
    stop() {
      bar.stop();
    },
  };
}

export const log = (message: string) => process.stderr.write(`${message}\n`);
