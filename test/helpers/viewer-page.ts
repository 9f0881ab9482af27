import type { ImpartialViewerEventMap } from '@impartial/viewer-plugin';
import { errors, type Frame, type Page } from 'playwright-core';
import { timedOut, type WaitOptions } from './wait.js';

/** A page, or a frame in one (a host page's iframe). */
type Where = Page | Frame;

/**
 * Waits until `condition` (a function run in the page, or an expression) is truthy there; a
 * timeout throws a WaitTimeout naming `what`.
 */
export async function waitInPage<Arg>(
  where: Where,
  condition: string | ((arg: Arg) => unknown),
  arg: Arg,
  options: WaitOptions,
): Promise<void> {
  try {
    // Playwright types its argument as the page sees it (unboxed); ours are plain values.
    await where.waitForFunction(condition as string | ((arg: unknown) => unknown), arg, { timeout: options.timeoutMs });
  } catch (e) {
    throw e instanceof errors.TimeoutError ? timedOut(options) : e;
  }
}

/**
 * Waits until the page's <impartial-viewer> shows everything asked of it so far: a frame drawn after
 * the last change, with every layer's tiles in (its `settled`, updated on each `rendered` event).
 */
export function viewerSettled(where: Where, what: string, timeoutMs = 30_000): Promise<void> {
  return waitInPage(where, () => document.querySelector('impartial-viewer')?.settled === true, undefined, {
    timeoutMs,
    what: `${what} (the viewer settled: every tile drawn)`,
  });
}

/** Waits until the page's viewer says its strokes are saved (connected to the bridge, the image open). */
export function viewerConnected(where: Where, what: string, timeoutMs = 30_000): Promise<void> {
  return waitInPage(
    where,
    () =>
      /saved/.test(
        (document.querySelector('impartial-viewer') as HTMLElement | null)?.shadowRoot?.querySelector('.status')
          ?.textContent ?? '',
      ),
    undefined,
    { timeoutMs, what },
  );
}

/** Where the page keeps the details of the events listened for, one list per listener. */
type EventLog = { viewerEvents?: unknown[][] };

/**
 * Starts listening for the viewer's next `type` event; the function returned waits for it and
 * gives its detail. Listen first, then do what should cause the event.
 */
export async function nextViewerEvent<K extends keyof ImpartialViewerEventMap>(
  page: Page,
  type: K,
): Promise<(options: WaitOptions) => Promise<ImpartialViewerEventMap[K]['detail']>> {
  const slot = await page.evaluate((t) => {
    const w = window as unknown as EventLog;
    w.viewerEvents ??= [];
    const details: unknown[] = [];
    w.viewerEvents.push(details);
    document.querySelector('impartial-viewer')!.addEventListener(t, (e) => details.push(e.detail), { once: true });
    return w.viewerEvents.length - 1;
  }, type);
  return async (options) => {
    const got = (k: number) => !!(window as unknown as EventLog).viewerEvents?.[k]?.length;
    await waitInPage(page, got, slot, options);
    const detail = page.evaluate((k) => (window as unknown as EventLog).viewerEvents![k]![0], slot);
    return detail as Promise<ImpartialViewerEventMap[K]['detail']>;
  };
}
