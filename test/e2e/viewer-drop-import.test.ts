// The demo page in headless Chromium: a TIFF dropped on it is uploaded with progress, imported by the
// bridge and shown; a file the bridge cannot read gets its message, and nothing is stored.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SYSTEM } from '@impartial/bridge-server';
import type { Browser, Page } from 'playwright-core';
import { projectWithImage, startTestBridge, syntheticTiff, type TestBridge } from '../helpers/bridge.js';
import { chromiumMissing, launchChromium } from '../helpers/browser.js';
import { viewerConnected, viewerSettled, waitInPage } from '../helpers/viewer-page.js';

const missing = process.env.CI ? undefined : chromiumMissing();

/** Drops a file with these bytes on the page, as a person dragging it from their files would. */
function drop(page: Page, name: string, bytes: Uint8Array): Promise<void> {
  return page.evaluate(
    ([fileName, base64]) => {
      const data = Uint8Array.from(atob(base64!), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([data], fileName!, { type: 'image/tiff' }));
      // What the page saw: every line it showed while importing.
      const seen: string[] = [];
      (window as unknown as { dropLines: string[] }).dropLines = seen;
      new MutationObserver(() => seen.push(document.getElementById('dropped')!.textContent ?? '')).observe(
        document.getElementById('dropped')!,
        { childList: true, characterData: true, subtree: true },
      );
      document.body.dispatchEvent(
        new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }),
      );
      document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    },
    [name, Buffer.from(bytes).toString('base64')],
  );
}

const lines = (page: Page) => page.evaluate(() => (window as unknown as { dropLines: string[] }).dropLines);

describe('importing a file dropped on the demo page', { skip: missing, timeout: 300_000 }, () => {
  let t: TestBridge;
  let browser: Browser;
  let page: Page;
  let project: string;

  before(async () => {
    const absent = chromiumMissing();
    if (absent) throw new Error(`CI must run the browser tests: ${absent}`);
    t = await startTestBridge();
    const first = await projectWithImage(t, 128, 1);
    project = first.project;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    await page.goto(`${t.bridge.viewerUrl}?image=${first.id}&name=dora`);
    await viewerConnected(page, 'the viewer connected');
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('uploads a dropped TIFF with progress, imports it into the shown project and shows it', async () => {
    await drop(page, 'dropped-cells.tif', syntheticTiff(200, 8).bytes);
    await waitInPage(
      page,
      () =>
        (document.querySelector('impartial-viewer') as unknown as { imageId: string }).imageId !== '' &&
        /imported dropped-cells \(200x200\)/.test(document.getElementById('dropped')!.textContent ?? ''),
      undefined,
      { timeoutMs: 30_000, what: 'the import done' },
    );
    const seen = await lines(page);
    assert.ok(
      seen.some((l) => /^uploading dropped-cells\.tif: \d+%$/.test(l)),
      `upload progress shown: ${seen.join(' | ')}`,
    );
    assert.ok(
      seen.some((l) => /^importing dropped-cells\.tif/.test(l)),
      'then the import',
    );
    const images = (await t.bridge.services.projects.detail(SYSTEM, project)).images;
    const stored = images.find((i) => i.name === 'dropped-cells');
    assert.ok(stored, `the bridge holds it in the shown image's project (${images.map((i) => i.name).join(', ')})`);
    assert.equal(stored.width, 200);
    assert.equal(stored.channels, 2);
    await waitInPage(
      page,
      (id) => (document.querySelector('impartial-viewer') as unknown as { imageId: string }).imageId === id,
      stored.id,
      { timeoutMs: 10_000, what: 'the viewer on the new image' },
    );
    await viewerSettled(page, 'the dropped image drawn');
    const link = await page.getAttribute(`#images a[href="?image=${stored.id}"]`, 'aria-current');
    assert.equal(link, 'true', 'its link is listed and marked');
  });

  it('says why a file is refused, and stores nothing', async () => {
    const before = (await t.bridge.services.projects.detail(SYSTEM, project)).images.length;
    await drop(page, 'notes.tif', new TextEncoder().encode('these are not pixels'));
    await waitInPage(
      page,
      () => /^cannot import notes\.tif: /.test(document.getElementById('dropped')!.textContent ?? ''),
      undefined,
      { timeoutMs: 30_000, what: 'the refusal shown' },
    );
    const reason = ((await page.textContent('#dropped')) ?? '').replace(/^cannot import notes\.tif: /, '');
    assert.match(reason, /neither a TIFF nor a PNG/, `the bridge's reason, not only a status: ${reason}`);
    assert.equal((await t.bridge.services.projects.detail(SYSTEM, project)).images.length, before);
  });
});
