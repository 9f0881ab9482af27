import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SYSTEM } from '@impartial/bridge-server';
import type { ImageRecord } from '@impartial/shared';
import { decode as decodePng } from 'fast-png';
import type { Browser, Page } from 'playwright-core';
import { line, projectWithImage, startTestBridge, type TestBridge, TestClient } from '../helpers/bridge.js';
import { chromiumMissing, keepScreenshot, launchChromium } from '../helpers/browser.js';
import { writeNgff05 } from '../helpers/ngff05.js';
import { serveFolder } from '../helpers/static-server.js';
import { nextViewerEvent, viewerSettled, waitInPage } from '../helpers/viewer-page.js';
import { waitFor } from '../helpers/wait.js';

const missing = process.env.CI ? undefined : chromiumMissing();

type Shown = { prediction: { record: { model: string; status: string } } | null };

/** Share of pixels in the viewer's area (right of the 220-px side panel) that match. */
function share(png: Buffer, match: (r: number, g: number, b: number) => boolean): number {
  const img = decodePng(new Uint8Array(png));
  let n = 0,
    hit = 0;
  for (let y = 40; y < img.height - 40; y++)
    for (let x = 240; x < img.width; x++) {
      const o = (y * img.width + x) * img.channels;
      n++;
      if (match(img.data[o]!, img.data[o + 1]!, img.data[o + 2]!)) hit++;
    }
  return hit / n;
}

/** Replaces a page's content with a bare element showing `src` (no bridge) and waits until it says so. */
async function viewOnly(page: Page, pageUrl: string, src: string): Promise<void> {
  await page.goto(pageUrl);
  await page.waitForFunction(() => !!customElements.get('impartial-viewer'));
  await page.evaluate((url) => {
    document.body.innerHTML = '<impartial-viewer style="position:fixed;inset:0"></impartial-viewer>';
    (document.querySelector('impartial-viewer') as unknown as { src: string }).src = url;
  }, src);
  await page.waitForFunction(
    () =>
      /view only/.test(
        (document.querySelector('impartial-viewer') as HTMLElement).shadowRoot?.querySelector('.status')?.textContent ??
          '',
      ),
    null,
    { timeout: 20_000 },
  );
  await viewerSettled(page, 'the view-only image');
}

const drawings = (page: Page) =>
  page.evaluate(
    () =>
      (document.querySelector('impartial-viewer') as unknown as { client: { drawings: unknown[] } | null }).client
        ?.drawings.length ?? -1,
  );
const status = (page: Page) =>
  page.evaluate(
    () =>
      (document.querySelector('impartial-viewer') as HTMLElement).shadowRoot!.querySelector('.status')!.textContent ??
      '',
  );

describe('<impartial-viewer> in headless Chromium', { skip: missing, timeout: 300_000 }, () => {
  let t: TestBridge;
  let browser: Browser;
  let image: ImageRecord;
  let a: Page, b: Page;
  before(async () => {
    const absent = chromiumMissing();
    if (absent) throw new Error(`CI must run the browser tests: ${absent}`);
    t = await startTestBridge();
    image = await projectWithImage(t, 256, 5);
    browser = await launchChromium();
    const open = async (name: string) => {
      const page = await browser.newPage({ viewport: { width: 900, height: 600 } });
      await page.goto(`${t.bridge.viewerUrl}?image=${image.id}&name=${name}`);
      await page.waitForFunction(
        () =>
          /saved/.test(
            (document.querySelector('impartial-viewer') as HTMLElement)?.shadowRoot?.querySelector('.status')
              ?.textContent ?? '',
          ),
        null,
        { timeout: 30_000 },
      );
      return page;
    };
    a = await open('alice');
    b = await open('bob');
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('renders the image from the bridge (pixel check on a screenshot)', async () => {
    await viewerSettled(a, 'the image from the bridge');
    const png = await keepScreenshot(a, 'viewer-image');
    const lit = share(png, (r, g, bl) => r + g + bl > 120);
    assert.ok(lit > 0.5, `most of the view shows image content (${(lit * 100).toFixed(0)}% lit)`);
  });

  it("shows the shipped starting model's prediction of the view on an image with no model, unasked", async () => {
    for (const page of [a, b])
      await waitInPage(
        page,
        () => (document.querySelector('impartial-viewer') as unknown as Shown).prediction?.record.status === 'complete',
        undefined,
        {
          timeoutMs: 60_000,
          what: "the starting model's prediction on both pages",
        },
      );
    const models = await t.bridge.services.models.list(SYSTEM, image.project);
    assert.equal(models.length, 1, 'one version: the starting model, added once for both pages');
    assert.equal(
      await a.evaluate(() => (document.querySelector('impartial-viewer') as unknown as Shown).prediction?.record.model),
      models[0]!.id,
    );
    assert.equal(models[0]!.steps, 2400, 'the shipped model as it is (its pretraining steps)');
    await waitInPage(
      a,
      () =>
        /the shipped starting model/.test(
          document.querySelector('impartial-viewer')?.shadowRoot?.querySelector('.model')?.textContent ?? '',
        ),
      undefined,
      { timeoutMs: 10_000, what: 'the version named as the shipped starting model in the training panel' },
    );
  });

  it('sends a stroke drawn with the mouse; a second viewer shows it; undo removes it everywhere', async () => {
    // After the first look: its overlay is drawn on both pages, and does not change under the stroke.
    await waitInPage(
      b,
      () => (document.querySelector('impartial-viewer') as unknown as Shown).prediction?.record.status === 'complete',
      undefined,
      { timeoutMs: 60_000, what: 'the first look' },
    );
    // The halo is checked against the image's own colours: the overlay hidden on the page that measures it.
    const overlay = (shown: boolean) =>
      b.evaluate(
        (on) =>
          (document.querySelector('impartial-viewer') as unknown as { setLayers(l: object): void }).setLayers({
            prediction: on,
            entropy: on,
          }),
        shown,
      );
    await overlay(false);
    await viewerSettled(b, 'the second page before the stroke');
    // The halo darkens what is under it: the image's cyan (0, 255, 255) becomes about (0, 53, 53).
    const dark = (rgb: Buffer) => share(rgb, (r, g, bl) => r < 20 && g >= 35 && g <= 75 && bl <= 75);
    const darkBefore = dark(await keepScreenshot(b, 'viewer-second-page-before-stroke'));
    await a.evaluate(() => (document.querySelector('impartial-viewer') as HTMLElement).focus());
    await a.keyboard.press('1');
    await a.mouse.move(450, 250);
    await a.mouse.down();
    for (let k = 1; k <= 10; k++) await a.mouse.move(450 + 15 * k, 250 + 8 * k);
    await a.mouse.up();
    await b.waitForFunction(
      () =>
        (document.querySelector('impartial-viewer') as unknown as { client: { drawings: unknown[] } }).client.drawings
          .length === 1,
      null,
      { timeout: 10_000 },
    );
    const log = await t.bridge.services.strokes.drawings(SYSTEM, image.id);
    assert.equal(log.length, 1);
    assert.equal(log[0]!.author, 'alice');
    assert.equal(log[0]!.op === 'add' && log[0]!.class, 1);
    assert.ok(log[0]!.points.length >= 5, 'the path as drawn, in image pixels');
    await a.waitForFunction(
      () =>
        /saved · 1 stroke/.test(
          (document.querySelector('impartial-viewer') as HTMLElement).shadowRoot!.querySelector('.status')!
            .textContent ?? '',
        ),
      null,
      { timeout: 10_000 },
    );
    assert.match(await status(a), /saved · 1 stroke/, 'the drawing page shows it saved once acknowledged');
    await viewerSettled(b, 'the stroke on the second page');
    const png = await keepScreenshot(b, 'viewer-second-page-stroke');
    const green = share(png, (r, g, bl) => g > 180 && r < 90 && bl < 140);
    assert.ok(
      green > 0.0005,
      `the second viewer draws the cell stroke in green (${(green * 100).toFixed(2)}% of pixels)`,
    );
    // The stroke's dark halo: darkened pixels that were not there before it.
    const darkAfter = dark(png);
    assert.ok(
      darkAfter - darkBefore > 0.0003,
      `a dark halo around the stroke (${(darkBefore * 100).toFixed(3)}% -> ${(darkAfter * 100).toFixed(3)}% darkened)`,
    );
    await a.keyboard.press('Control+z');
    await b.waitForFunction(
      () =>
        (document.querySelector('impartial-viewer') as unknown as { client: { drawings: unknown[] } }).client.drawings
          .length === 0,
      null,
      { timeout: 10_000 },
    );
    assert.equal((await t.bridge.services.strokes.drawings(SYSTEM, image.id)).length, 0);
    await a.waitForFunction(
      () =>
        (document.querySelector('impartial-viewer') as unknown as { client: { drawings: unknown[] } }).client.drawings
          .length === 0,
      null,
      { timeout: 10_000 },
    );
    assert.equal(await drawings(a), 0, 'and on the page that drew it');
    await overlay(true);
  });

  it("follows another viewer's view and layer state when follow mode is on", async () => {
    await b.evaluate(() => {
      (document.querySelector('impartial-viewer') as unknown as { follow: boolean }).follow = true;
    });
    await a.evaluate(() => {
      (document.querySelector('impartial-viewer') as unknown as { flyTo(r: object): void }).flyTo({
        x: 200,
        y: 40,
        width: 40,
        height: 40,
      });
    });
    await b.waitForFunction(
      () =>
        Math.abs(
          (document.querySelector('impartial-viewer') as unknown as { view: { target: number[] } }).view.target[0]! -
            220,
        ) < 0.5,
      null,
      { timeout: 10_000 },
    );
    await a.evaluate(() => {
      (document.querySelector('impartial-viewer') as unknown as { setLayers(l: object): void }).setLayers({
        entropy: false,
        predictionOpacity: 0.8,
      });
    });
    await b.waitForFunction(
      () => {
        const l = (
          document.querySelector('impartial-viewer') as unknown as {
            layers: { entropy: boolean; predictionOpacity: number };
          }
        ).layers;
        return !l.entropy && l.predictionOpacity === 0.8;
      },
      null,
      { timeout: 10_000 },
    );
    await b.evaluate(() => {
      const v = document.querySelector('impartial-viewer') as unknown as {
        follow: boolean;
        setLayers(l: object): void;
        fitView(): void;
      };
      v.follow = false;
      v.setLayers({ entropy: true, predictionOpacity: 0.45 });
      v.fitView();
    });
    await a.evaluate(() => {
      const v = document.querySelector('impartial-viewer') as unknown as {
        setLayers(l: object): void;
        fitView(): void;
      };
      v.setLayers({ entropy: true, predictionOpacity: 0.45 });
      v.fitView();
    });
  });

  it('stops zooming in at 8 screen pixels per image pixel', async () => {
    const zoomOf = () =>
      a.evaluate(() => (document.querySelector('impartial-viewer') as unknown as { view: { zoom: number } }).view.zoom);
    const before = await zoomOf();
    await a.mouse.move(450, 300);
    for (let i = 0; i < 40; i++) await a.mouse.wheel(0, -400);
    await a.waitForFunction(
      () => (document.querySelector('impartial-viewer') as unknown as { view: { zoom: number } }).view.zoom > 2.5,
      null,
      { timeout: 10_000 },
    );
    const zoom = await zoomOf();
    assert.ok(zoom > before + 1, `the wheel zoomed in (${before} -> ${zoom})`);
    assert.ok(zoom <= 3 + 1e-9, `zoom ${zoom}: no closer than 2^3 screen pixels per image pixel`);
    await a.evaluate(() => (document.querySelector('impartial-viewer') as unknown as { fitView(): void }).fitView());
  });

  it('trains from the UI with live progress, then shows prediction and entropy overlays', async () => {
    const ws = await TestClient.join(t.bridge, image.id, 'annotator');
    ws.send({ type: 'draw', ref: 'fg', drawing: line(60, 60, 120, 120, 1, 4) });
    ws.send({ type: 'draw', ref: 'bg', drawing: line(150, 20, 240, 60, 2, 4) });
    await ws.next((m) => m.type === 'entry' && m.ref === 'bg');
    const before = await keepScreenshot(a, 'viewer-before-prediction');
    await a.evaluate(() => {
      (document.querySelector('impartial-viewer') as unknown as { trainOptions: object }).trainOptions = {
        steps: 4,
        depth: 2,
        base: 4,
        batchSize: 2,
        patch: 32,
        init: 'scratch',
      };
    });
    // Each wait has its own deadline, so a missing event fails the test instead of hanging it.
    const prediction = await nextViewerEvent(a, 'prediction');
    const progress = await nextViewerEvent(a, 'training-progress');
    await a.getByRole('button', { name: 'Train' }).click();
    const p = await progress({ timeoutMs: 60_000, what: 'training progress on the page' });
    assert.ok(p.step >= 1, 'progress reached the page');
    const record = await prediction({ timeoutMs: 120_000, what: 'the prediction on the page' });
    assert.equal(record.status, 'complete');
    await viewerSettled(a, 'the prediction and entropy overlays', 60_000);
    const after = await keepScreenshot(a, 'viewer-prediction-entropy');
    const x = decodePng(new Uint8Array(before)),
      y = decodePng(new Uint8Array(after));
    let changed = 0,
      n = 0;
    for (let i = 0; i < x.data.length; i += x.channels) {
      n++;
      if (
        Math.abs(x.data[i]! - y.data[i]!) +
          Math.abs(x.data[i + 1]! - y.data[i + 1]!) +
          Math.abs(x.data[i + 2]! - y.data[i + 2]!) >
        60
      )
        changed++;
    }
    assert.ok(
      changed / n > 0.05,
      `the prediction and entropy overlays changed the view (${((changed / n) * 100).toFixed(1)}% of pixels)`,
    );
    assert.match(await status(a), /saved/);
    ws.close();
  });

  it("asks for Monte-Carlo dropout passes when the panel's MC dropout box is ticked", async () => {
    // Records what the viewer's real client sends (and still sends it).
    await a.evaluate(() => {
      const client = (document.querySelector('impartial-viewer') as unknown as { client: Record<string, unknown> })
        .client;
      const infer = client.infer as (r: object) => void;
      const sent: object[] = [];
      Object.assign(window, { inferSent: sent });
      client.infer = (r: object) => {
        sent.push(r);
        infer.call(client, r);
      };
    });
    const sent = () => a.evaluate(() => (window as unknown as { inferSent: Array<Record<string, unknown>> }).inferSent);
    const predictButton = a.getByRole('button', { name: 'Predict' });
    /** Clicks Predict and returns the request it sent, once the prediction it asked for is on the page. */
    const predictFromPanel = async () => {
      const before = (await sent()).length;
      const prediction = await nextViewerEvent(a, 'prediction');
      await predictButton.click();
      const request = await waitFor(async () => (await sent())[before], { timeoutMs: 10_000, what: 'the request' });
      const record = await prediction({ timeoutMs: 120_000, what: 'the prediction after Predict' });
      assert.equal(record.status, 'complete');
      return request;
    };
    assert.equal((await predictFromPanel()).dropout, undefined, 'no MC dropout unless asked');
    await a.getByLabel('MC dropout').check();
    const request = await predictFromPanel();
    assert.equal(request.dropout, true);
    assert.equal(request.passes, 3, "the panel's Passes");
  });

  it('shows a static OME-Zarr view-only, without a bridge', async () => {
    const page = await browser.newPage({ viewport: { width: 900, height: 600 } });
    await viewOnly(
      page,
      `${t.bridge.viewerUrl}?image=${image.id}`,
      `${t.bridge.url}/t/${t.bridge.token}/zarr/images/${image.id}/`,
    );
    const png = await keepScreenshot(page, 'viewer-view-only');
    assert.ok(share(png, (r, g, bl) => r + g + bl > 120) > 0.4, 'the image renders with no bridge connection');
    assert.equal(await page.getByRole('button', { name: 'Train' }).count(), 0, 'no training controls without a bridge');
  });
});

describe('<impartial-viewer> on a static NGFF 0.5 (Zarr v3) image', { skip: missing, timeout: 120_000 }, () => {
  it("shows it view-only, channels and colours from the file's omero metadata", async () => {
    if (chromiumMissing()) throw new Error(`CI must run the browser tests: ${chromiumMissing()}`);
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const pathMod = await import('node:path');
    const dir = await mkdtemp(pathMod.join(tmpdir(), 'ngff05-'));
    await writeNgff05(pathMod.join(dir, 'image.ome.zarr'));
    // A plain static file server on another origin, as a data portal would be (CORS allowed).
    const files = await serveFolder(dir);
    const t = await startTestBridge();
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 900, height: 600 } });
      await viewOnly(page, `${t.bridge.viewerUrl}examples/plain.html`, `${files.url}/image.ome.zarr/`);
      const names = await page.evaluate(() =>
        (document.querySelector('impartial-viewer') as unknown as { channels: Array<{ name: string }> }).channels.map(
          (c) => c.name,
        ),
      );
      assert.deepEqual(names, ['square', 'gradient']);
      assert.equal(await page.getByRole('button', { name: 'Eraser' }).count(), 0, 'view only: no scribble tools');
      const png = await keepScreenshot(page, 'viewer-ngff-0.5');
      // The square is magenta (channel 0 in FF00FF) over the green gradient: both colours appear.
      assert.ok(share(png, (r, _g, b) => r > 150 && b > 150) > 0.03, 'the magenta square shows');
      assert.ok(share(png, (r, g, b) => g > 100 && r < 80 && b < 80) > 0.03, 'the green gradient shows');
    } finally {
      await browser.close();
      await t.stop();
      await files.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('<impartial-viewer> embedded in other pages', { skip: missing, timeout: 300_000 }, () => {
  let t: TestBridge;
  let browser: Browser;
  let image: ImageRecord;
  before(async () => {
    if (chromiumMissing()) throw new Error(`CI must run the browser tests: ${chromiumMissing()}`);
    t = await startTestBridge();
    image = await projectWithImage(t, 128, 8);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('works in a plain HTML page that loads only the element module', async () => {
    const page = await browser.newPage({ viewport: { width: 900, height: 600 } });
    await page.goto(`${t.bridge.viewerUrl}examples/plain.html?image=${image.id}`);
    await page.waitForFunction(
      () =>
        /saved/.test(
          (document.querySelector('impartial-viewer') as HTMLElement)?.shadowRoot?.querySelector('.status')
            ?.textContent ?? '',
        ),
      null,
      { timeout: 30_000 },
    );
    await viewerSettled(page, 'the image in a plain page');
    const png = await keepScreenshot(page, 'viewer-embedded-plain');
    assert.ok(share(png, (r, g, bl) => r + g + bl > 120) > 0.3, 'the image renders');
  });

  it('works inside a frame of a host page (how Vitessce hosts it)', async () => {
    const page = await browser.newPage({ viewport: { width: 900, height: 600 } });
    await page.goto(`${t.bridge.viewerUrl}examples/iframe-host.html?image=${image.id}`);
    const frame = page.frameLocator('#frame');
    await frame.locator('impartial-viewer .status').filter({ hasText: 'saved' }).waitFor({ timeout: 30_000 });
    const framed = await (await page.locator('#frame').elementHandle())!.contentFrame();
    await viewerSettled(framed!, 'the image in the frame');
    const png = await keepScreenshot(page, 'viewer-embedded-iframe');
    assert.ok(share(png, (r, g, bl) => r + g + bl > 120) > 0.3, 'the framed viewer renders');
  });
});

describe('the main job: impartial serve --demo (what npm start runs)', { skip: missing, timeout: 300_000 }, () => {
  it('prints a viewer URL whose page loads the demo project and shows an image', async () => {
    if (chromiumMissing()) throw new Error(`CI must run the browser tests: ${chromiumMissing()}`);
    const { spawn } = await import('node:child_process');
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const pathMod = await import('node:path');
    const { repo } = await import('../helpers/cli.js');
    const dir = await mkdtemp(pathMod.join(tmpdir(), 'impartial-start-'));
    const child = spawn(
      process.execPath,
      [
        pathMod.join(repo, 'bridge-server/bin/impartial.js'),
        'serve',
        '--demo',
        '--port',
        '0',
        '--data',
        pathMod.join(dir, 'data'),
      ],
      { env: { ...process.env, IMPARTIAL_DEMO_SLIDE: '1024' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const browser = await launchChromium();
    try {
      let err = '';
      child.stderr!.on('data', (d) => {
        err += d;
      });
      const url = await waitFor(() => /viewer: (http\S+)/.exec(err)?.[1], {
        timeoutMs: 30_000,
        what: () => `a viewer URL on the server's stderr (so far: ${err})`,
      });
      const page = await browser.newPage({ viewport: { width: 900, height: 600 } });
      await page.goto(url);
      await page.waitForFunction(
        () =>
          /saved/.test(
            (document.querySelector('impartial-viewer') as HTMLElement)?.shadowRoot?.querySelector('.status')
              ?.textContent ?? '',
          ),
        null,
        { timeout: 30_000 },
      );
      const names = await page.locator('nav a').allTextContents();
      assert.ok(
        names.some((n) => n.startsWith('synthetic-1')),
        `the demo project's images are listed: ${names.join(', ')}`,
      );
      await viewerSettled(page, 'the demo image');
      const png = await keepScreenshot(page, 'main-job-demo-page');
      // Tissue on a dark background: cells are bright green (membrane) or blue (nuclei).
      const cells = share(png, (_r, g, bl) => g > 120 || bl > 120);
      assert.ok(cells > 0.1, `the image shows (${(cells * 100).toFixed(0)}% of the view is cell signal)`);
      // The procedural slide is written in the background and joins the project when done.
      await waitFor(() => /demo slide ready/.test(err), { timeoutMs: 30_000, what: 'the demo slide to be ready' });
      // The page lists imports in progress and looks again until they are done: the slide's link appears.
      await page.waitForFunction(
        () =>
          Array.from(document.querySelectorAll('nav a'), (a) => a.textContent ?? '').some((n) =>
            n.startsWith('synthetic-slide (1024x1024)'),
          ),
        null,
        { timeout: 10_000 },
      );
      // Projects and imports are read at once: the link may come one listing before the import is done.
      await waitInPage(page, () => document.querySelectorAll('nav .importing').length === 0, undefined, {
        timeoutMs: 10_000,
        what: 'no import left in progress on the page',
      });
    } finally {
      await browser.close();
      child.kill('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
