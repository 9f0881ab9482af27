/* Waiting on conditions, never for a fixed time: the one place in the tests that sets timers. */

/** A wait that ran out of time; its message names what was awaited. */
export class WaitTimeout extends Error {
  override name = 'WaitTimeout';
}

export interface WaitOptions {
  /** How long to wait at most. */
  timeoutMs: number;
  /** What is awaited, as the error puts it ("the stroke on the second page"); a function when it changes. */
  what: string | (() => string);
}

export const timedOut = ({ timeoutMs, what }: WaitOptions) =>
  new WaitTimeout(`waited ${timeoutMs} ms for ${typeof what === 'string' ? what : what()}`);

/**
 * Looks at `condition` every `intervalMs` until it gives a truthy value, and returns that value;
 * throws a WaitTimeout naming `what` when `timeoutMs` pass first.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  options: WaitOptions & { intervalMs?: number },
): Promise<NonNullable<T>> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value as NonNullable<T>;
    if (Date.now() >= deadline) throw timedOut(options);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}
