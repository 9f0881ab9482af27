// Live mode in the viewer: with the switch on, a stroke drawn with the mouse changes the view's
// prediction without Train being pressed; switched off, the training's version is saved.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SYSTEM } from '@impartial/bridge-server';
import { type ImageRecord, type JobRecord, openArray, readRegion } from '@impartial/shared';
import { FileSystemStore } from '@impartial/shared/node';
import type { Browser, Page } from 'playwright-core';
import { folderOf, projectWithImage, startTestBridge, type TestBridge } from '../helpers/bridge.js';
import { chromiumMissing, launchChromium } from '../helpers/browser.js';
import { viewerConnected, waitInPage } from '../helpers/viewer-page.js';

const missing = process.env.CI ? undefined : chromiumMissing();

/** What the page keeps of the live refreshes it was told of. */
type LiveLog = { liveTiles: Array<{ step: number; strokes: number; model: string }> };
type Viewer = {
  client: EventTarget & { drawings: unknown[]; pending: Map<unknown, unknown> };
  prediction: { record: { model: string } } | null;
  trainOptions: object;
  panel: { live: boolean; models: Array<{ id: string }> };
};

describe('live mode in <impartial-viewer>', { skip: missing, timeout: 300_000 }, () => {
  let t: TestBridge;
  let browser: Browser;
  let image: ImageRecord;
  let page: Page;
  before(async () => {
    const absent = chromiumMissing();
    if (absent) throw new Error(`CI must run the browser tests: ${absent}`);
    t = await startTestBridge();
    image = await projectWithImage(t, 256, 9, 'live', { unsaturated: true });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 900, height: 600 } });
    await page.goto(`${t.bridge.viewerUrl}?image=${image.id}&name=alice`);
    await viewerConnected(page, 'the viewer');
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  /** Draws a stroke of `cls` (the class's number key) with the mouse; resolves with its log entry's number. */
  async function stroke(cls: 1 | 2, x: number, y: number): Promise<number> {
    const before = await t.bridge.services.strokes.lastSeq(SYSTEM, image.id);
    const count = await page.evaluate(
      () => (document.querySelector('impartial-viewer') as unknown as Viewer).client.drawings.length,
    );
    await page.evaluate(() => (document.querySelector('impartial-viewer') as HTMLElement).focus());
    await page.keyboard.press(String(cls));
    // The side panels leave the image x 220-645, y 87-512 of the page's 900 x 600.
    await page.mouse.move(x, y);
    await page.mouse.down();
    for (let k = 1; k <= 8; k++) await page.mouse.move(x + 6 * k, y + 4 * k);
    await page.mouse.up();
    await waitInPage(
      page,
      (n) => {
        const { client } = document.querySelector('impartial-viewer') as unknown as Viewer;
        return client.drawings.length > n && client.pending.size === 0;
      },
      count,
      { timeoutMs: 20_000, what: `the class ${cls} stroke saved` },
    );
    const seq = await t.bridge.services.strokes.lastSeq(SYSTEM, image.id);
    assert.ok(seq > before, 'the stroke reached the bridge');
    return seq;
  }

  /** Waits until the page was told of a live refresh that trained with the strokes up to `seq`. */
  const refreshWith = (seq: number, what: string) =>
    waitInPage(page, (s) => (window as unknown as LiveLog).liveTiles.some((l) => l.strokes >= s), seq, {
      timeoutMs: 120_000,
      what,
    });

  /** The live prediction's probability over the whole image, as the bridge wrote it. */
  async function probability(model: string): Promise<Float32Array> {
    const folder = folderOf(await t.bridge.services.predictions.zarrFiles(SYSTEM, image.id, model));
    const arr = await openArray(new FileSystemStore(folder), '0');
    return (await readRegion(arr, 0, 0, 256, 256, 0)) as Float32Array;
  }

  it('refreshes the prediction after a stroke without Train, and saves a version when switched off', async () => {
    await page.evaluate(() => {
      const viewer = document.querySelector('impartial-viewer') as unknown as Viewer;
      // Small patches and batches: this checks the loop, not accuracy (the latency is in `npm run bench`).
      viewer.trainOptions = { batchSize: 2, patch: 64 };
      const log = window as unknown as LiveLog;
      log.liveTiles = [];
      viewer.client.addEventListener('tiles', (e) => {
        const m = (e as CustomEvent).detail as {
          live?: { step: number; strokes: number };
          prediction: { model: string };
        };
        if (m.live) log.liveTiles.push({ ...m.live, model: m.prediction.model });
      });
    });
    await page.getByRole('checkbox', { name: 'live' }).check();
    await waitInPage(
      page,
      () => (document.querySelector('impartial-viewer') as unknown as Viewer).panel.live,
      undefined,
      {
        timeoutMs: 30_000,
        what: 'the live training running',
      },
    );
    await stroke(1, 300, 150);
    const second = await stroke(2, 560, 400);
    await refreshWith(second, 'a refresh with the first two strokes');
    const version = await page.evaluate(() => (window as unknown as LiveLog).liveTiles.at(-1)!.model);
    await waitInPage(
      page,
      (v) => (document.querySelector('impartial-viewer') as unknown as Viewer).prediction?.record.model === v,
      version,
      { timeoutMs: 30_000, what: 'the page showing the live prediction' },
    );
    const before = await probability(version);

    // One more stroke, and no Train: the view is predicted again with it.
    const third = await stroke(1, 400, 420);
    await refreshWith(third, 'a refresh with the third stroke');
    const afterStroke = await probability(version);
    let changed = 0;
    for (let i = 0; i < before.length; i++) if (Math.abs(before[i]! - afterStroke[i]!) > 1e-3) changed++;
    assert.ok(changed > 100, `the prediction changed at ${changed} pixels`);
    const jobs = (await (await t.api('/api/projects/live/jobs')).json()) as JobRecord[];
    assert.equal(jobs.filter((j) => j.kind === 'train').length, 1, 'one training, never restarted');

    await page.getByRole('checkbox', { name: 'live' }).uncheck();
    await waitInPage(
      page,
      (v) => (document.querySelector('impartial-viewer') as unknown as Viewer).panel.models.some((m) => m.id === v),
      version,
      { timeoutMs: 60_000, what: 'the live version listed on the page' },
    );
    const job = (await (await t.api('/api/projects/live/jobs')).json()) as JobRecord[];
    assert.equal(job.find((j) => j.kind === 'train')!.status, 'done');
    assert.equal(await page.getByRole('checkbox', { name: 'live' }).isChecked(), false);
  });
});
