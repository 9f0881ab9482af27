// The Vitessce example app (vitessce 4.0.8): Vitessce's own spatial view and layer controller beside
// ImPartial's plugin view (the element in a frame), on the same OME-Zarr image from the bridge.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ImageRecord } from '@impartial/shared';
import type { Browser, Frame, Page } from 'playwright-core';
import { projectWithImage, startTestBridge, type TestBridge, TestClient } from '../helpers/bridge.js';
import { chromiumMissing, launchChromium } from '../helpers/browser.js';
import { viewerConnected, viewerSettled } from '../helpers/viewer-page.js';
import { waitFor } from '../helpers/wait.js';

const missing = process.env.CI ? undefined : chromiumMissing();

type View = { x: number; y: number; zoom: number };

/** Within one level-0 pixel and a hundredth of a zoom step (the bridge's images have a scale of 1). */
const close = (a: View, b: View) =>
  Math.abs(a.x - b.x) <= 1 && Math.abs(a.y - b.y) <= 1 && Math.abs(a.zoom - b.zoom) <= 0.01;
const moved = (a: View, b: View) => Math.hypot(a.x - b.x, a.y - b.y) > 5 || Math.abs(a.zoom - b.zoom) > 0.1;
const show = (v: View) => `(${v.x.toFixed(1)}, ${v.y.toFixed(1)}, zoom ${v.zoom.toFixed(3)})`;

describe('the Vitessce example app with the ImPartial view', { skip: missing, timeout: 300_000 }, () => {
  let t: TestBridge;
  let browser: Browser;
  let image: ImageRecord;
  let page: Page;
  let frame: Frame;

  before(async () => {
    const absent = chromiumMissing();
    if (absent) throw new Error(`CI must run the browser tests: ${absent}`);
    t = await startTestBridge();
    image = await projectWithImage(t, 256, 5, 'vitessce', { unsaturated: true });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 700 } });
    await page.goto(`${t.bridge.viewerUrl}examples/vitessce/?image=${image.id}`);
    frame = await waitFor(() => page.frames().find((f) => f.url().includes('/viewer/?image=')), {
      timeoutMs: 60_000,
      what: 'the ImPartial view in its frame',
    });
    await viewerConnected(frame, 'the viewer in the frame', 60_000);
    await viewerSettled(frame, 'the image in the frame', 60_000);
    // Vitessce covers its view with a loading backdrop (pointer events go to it) until its layers are in.
    await waitFor(async () => (await page.locator('[class*="loadingIndicatorBackdrop"]').count()) === 0, {
      timeoutMs: 120_000,
      what: "Vitessce's spatial view loaded",
    });
    await waitFor(async () => close(await vitessce(), await ours()), {
      timeoutMs: 30_000,
      what: 'the first view shared',
    });
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  /** Vitessce's spatial view (its coordination values, as the plugin view last saw them). */
  async function vitessce(): Promise<View> {
    const a = await page.locator('.impartial-vitessce-view').evaluate((e) => ({ ...(e as HTMLElement).dataset }));
    return { x: Number(a.spatialTargetX), y: Number(a.spatialTargetY), zoom: Number(a.spatialZoom) };
  }

  /** The element's view in the frame. */
  function ours(): Promise<View> {
    return frame.evaluate(() => {
      const v = (document.querySelector('impartial-viewer') as unknown as { view: { target: number[]; zoom: number } })
        .view;
      return { x: v.target[0]!, y: v.target[1]!, zoom: v.zoom };
    });
  }

  /** Waits until both views agree, having moved away from `from`. */
  const agreeAfterMove = (from: View, what: string) => {
    let last = '';
    return waitFor(
      async () => {
        const [a, b] = [await vitessce(), await ours()];
        last = `Vitessce ${show(a)}, ours ${show(b)}, from ${show(from)}`;
        return moved(a, from) && close(a, b) ? ([a, b] as const) : null;
      },
      { timeoutMs: 30_000, what: () => `${what} (${last})` },
    );
  };

  it("moves ours to where Vitessce's spatial view is panned and zoomed", async () => {
    const from = await vitessce();
    const canvas = (await page.locator('#deckgl-overlay-A').boundingBox())!;
    const cx = canvas.x + canvas.width / 2,
      cy = canvas.y + canvas.height / 2;
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    for (let k = 1; k <= 10; k++) await page.mouse.move(cx - 8 * k, cy - 5 * k);
    await page.mouse.up();
    await page.mouse.wheel(0, -240);
    const [a, b] = await agreeAfterMove(from, 'our view following a pan and zoom in Vitessce');
    assert.ok(close(a, b), `Vitessce ${show(a)}, ours ${show(b)}`);
  });

  it("moves Vitessce's spatial view where ours is panned and zoomed", async () => {
    const from = await ours();
    const box = (await page.locator('iframe[title="ImPartial viewer"]').boundingBox())!;
    // The element's own side panel covers its right; its image is on the left part of the frame.
    const x = box.x + 100,
      y = box.y + box.height / 2;
    await frame.evaluate(() =>
      (document.querySelector('impartial-viewer') as unknown as { setTool(t: string): void }).setTool('pan'),
    );
    await page.mouse.move(x, y);
    await page.mouse.down();
    for (let k = 1; k <= 10; k++) await page.mouse.move(x + 5 * k, y + 6 * k);
    await page.mouse.up();
    await page.mouse.wheel(0, 240);
    const [a, b] = await waitFor(
      async () => {
        const [v, o] = [await vitessce(), await ours()];
        return moved(o, from) && close(v, o) ? [v, o] : null;
      },
      { timeoutMs: 30_000, what: 'Vitessce following a pan and zoom in ours' },
    );
    assert.ok(close(a, b), `Vitessce ${show(a)}, ours ${show(b)}`);
  });

  it("hides in ours the channel hidden in Vitessce's layer controller", async () => {
    const channelsShown = () =>
      frame.evaluate(() =>
        (
          document.querySelector('impartial-viewer') as unknown as { channels: Array<{ visible: boolean }> }
        ).channels.map((c) => c.visible),
      );
    assert.deepEqual(await channelsShown(), [true, true]);
    await page.getByRole('checkbox', { name: 'Toggle on or off a channel' }).nth(1).uncheck();
    await waitFor(async () => (await channelsShown()).join() === 'true,false', {
      timeoutMs: 20_000,
      what: 'channel 1 hidden in ours',
    });
    await page.getByRole('checkbox', { name: 'Toggle on or off a channel' }).nth(1).check();
    await waitFor(async () => (await channelsShown()).join() === 'true,true', {
      timeoutMs: 20_000,
      what: 'channel 1 shown again in ours',
    });
  });

  it("hides in Vitessce's layer controller the channel hidden in ours", async () => {
    const vitessceShows = () =>
      Promise.all(
        [0, 1].map((k) => page.getByRole('checkbox', { name: 'Toggle on or off a channel' }).nth(k).isChecked()),
      );
    assert.deepEqual(await vitessceShows(), [true, true]);
    // The element's own channel panel, in the frame: channel 0's visibility.
    await frame.locator('impartial-viewer').getByRole('checkbox', { name: 'C0' }).uncheck();
    await waitFor(async () => (await vitessceShows()).join() === 'false,true', {
      timeoutMs: 20_000,
      what: "channel 0 hidden in Vitessce's layer controller",
    });
    await frame.locator('impartial-viewer').getByRole('checkbox', { name: 'C0' }).check();
    await waitFor(async () => (await vitessceShows()).join() === 'true,true', {
      timeoutMs: 20_000,
      what: "channel 0 shown again in Vitessce's layer controller",
    });
  });

  it('sends a stroke drawn in our view to the bridge and a second plain viewer', async () => {
    const second = await TestClient.join(t.bridge, image.id, 'second-viewer');
    const box = (await page.locator('iframe[title="ImPartial viewer"]').boundingBox())!;
    await frame.evaluate(() => (document.querySelector('impartial-viewer') as HTMLElement).focus());
    await page.keyboard.press('1');
    const x = box.x + 60,
      y = box.y + box.height / 2;
    await page.mouse.move(x, y);
    await page.mouse.down();
    for (let k = 1; k <= 8; k++) await page.mouse.move(x + 6 * k, y + 3 * k);
    await page.mouse.up();
    const got = await second.next((m) => m.type === 'entry', 20_000, 'entry');
    assert.equal(got.entry.author, 'vitessce');
    assert.ok(
      got.entry.op === 'add' && got.entry.class === 1 && got.entry.points.length >= 4,
      'the cell stroke as drawn',
    );
    second.close();
  });
});
