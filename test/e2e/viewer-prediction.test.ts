import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SYSTEM } from '@impartial/bridge-server';
import type { ImageRecord } from '@impartial/shared';
import type { PredictionRecord } from '@impartial/shared/protocol';
import { decode as decodePng } from 'fast-png';
import type { Browser, Page } from 'playwright-core';
import { line, projectWithImage, startTestBridge, type TestBridge, TestClient } from '../helpers/bridge.js';
import { chromiumMissing, keepScreenshot, launchChromium } from '../helpers/browser.js';
import { viewerSettled } from '../helpers/viewer-page.js';

const missing = process.env.CI ? undefined : chromiumMissing();

/** Share of pixels (right of the side panel) that differ clearly between two screenshots. */
function changed(x: Buffer, y: Buffer): number {
  const a = decodePng(new Uint8Array(x)),
    b = decodePng(new Uint8Array(y));
  let n = 0,
    hit = 0;
  for (let r = 40; r < a.height - 40; r++)
    for (let c = 0; c < a.width - 250; c++) {
      const o = (r * a.width + c) * a.channels;
      n++;
      if (
        Math.abs(a.data[o]! - b.data[o]!) +
          Math.abs(a.data[o + 1]! - b.data[o + 1]!) +
          Math.abs(a.data[o + 2]! - b.data[o + 2]!) >
        60
      )
        hit++;
    }
  return hit / n;
}

/** Share of 16x16 blocks whose mean colour differs by more than 24 (sum over RGB): the same picture up to sampling. */
function blocksDiffer(x: Buffer, y: Buffer): number {
  const a = decodePng(new Uint8Array(x)),
    b = decodePng(new Uint8Array(y));
  let n = 0,
    hit = 0;
  for (let by = 40; by + 16 <= a.height - 40; by += 16)
    for (let bx = 0; bx + 16 <= a.width - 250; bx += 16) {
      const sum = [0, 0, 0];
      for (let r = by; r < by + 16; r++)
        for (let c = bx; c < bx + 16; c++) {
          const o = (r * a.width + c) * a.channels;
          for (let k = 0; k < 3; k++) sum[k]! += a.data[o + k]! - b.data[o + k]!;
        }
      n++;
      if (Math.abs(sum[0]!) + Math.abs(sum[1]!) + Math.abs(sum[2]!) > 24 * 256) hit++;
    }
  return hit / n;
}

type Viewer = {
  setLayers(l: object): void;
  showPrediction(r: unknown, tiles?: unknown[]): Promise<void>;
  prediction: { record: PredictionRecord; tiles: unknown } | null;
  overlayInImagePass: boolean;
};

describe('<impartial-viewer> prediction overlay', { skip: missing, timeout: 300_000 }, () => {
  let t: TestBridge;
  let browser: Browser;
  let image: ImageRecord;
  let page: Page;
  let record: PredictionRecord;
  const chunkRequests: string[] = [];

  before(async () => {
    const absent = chromiumMissing();
    if (absent) throw new Error(`CI must run the browser tests: ${absent}`);
    t = await startTestBridge();
    image = await projectWithImage(t, 768, 7);
    const ws = await TestClient.join(t.bridge, image.id, 'annotator');
    ws.send({ type: 'draw', ref: 'fg', drawing: line(100, 100, 400, 400, 1, 4) });
    ws.send({ type: 'draw', ref: 'bg', drawing: line(500, 50, 700, 300, 2, 4) });
    ws.send({
      type: 'train-start',
      ref: 't',
      options: { steps: 3, depth: 2, base: 4, batchSize: 2, patch: 32, init: 'scratch' },
    });
    await ws.next((m) => m.type === 'model', 120_000);
    ws.send({ type: 'infer', ref: 'i', request: { passes: 1, tile: 256 } });
    const done = await ws.next((m) => m.type === 'tiles' && m.prediction.status === 'complete', 120_000);
    record = (done as { prediction: PredictionRecord }).prediction;
    ws.close();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    // Chunk reads of the prediction (not its metadata): what a refresh costs.
    page.on('request', (r) => {
      const u = r.url();
      if (u.includes(record.url) && !/\.z(attrs|array|group)$|zarr\.json$/.test(u)) chunkRequests.push(u);
    });
    await page.goto(`${t.bridge.viewerUrl}?image=${image.id}&name=viewer`);
    await page.waitForFunction(
      () => (document.querySelector('impartial-viewer') as unknown as Viewer).prediction?.record.status === 'complete',
      null,
      { timeout: 30_000 },
    );
    await viewerSettled(page, 'the prediction overlay');
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it("draws the overlay in the image layer's pass, or in its own: the same picture", async () => {
    assert.ok(
      await page.evaluate(() => !!(document.querySelector('impartial-viewer') as unknown as Viewer).prediction?.tiles),
      'same tile grid: drawn in the image pass',
    );
    const fused = await keepScreenshot(page, 'overlay-in-image-pass');
    const other = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    await other.addInitScript(() => {
      customElements.whenDefined('impartial-viewer').then(() => {
        (document.querySelector('impartial-viewer') as unknown as Viewer).overlayInImagePass = false;
      });
    });
    await other.goto(`${t.bridge.viewerUrl}?image=${image.id}&name=other`);
    await other.waitForFunction(
      () => (document.querySelector('impartial-viewer') as unknown as Viewer).prediction?.record.status === 'complete',
      null,
      { timeout: 30_000 },
    );
    await viewerSettled(other, 'the overlay in its own pass');
    assert.equal(
      await other.evaluate(() => (document.querySelector('impartial-viewer') as unknown as Viewer).prediction?.tiles),
      null,
      'drawn as its own layer',
    );
    const separate = await keepScreenshot(other, 'overlay-own-pass');
    await other.close();
    // Nearest sampling below one screen pixel per image pixel picks neighbours differently in the two
    // shaders, so single pixels may differ; 16x16 blocks must not.
    assert.ok(
      blocksDiffer(fused, separate) < 0.02,
      `both ways draw the same overlay (${(blocksDiffer(fused, separate) * 100).toFixed(2)}% of blocks differ)`,
    );
    assert.ok(
      changed(fused, separate) < 0.1,
      `and most pixels match (${(changed(fused, separate) * 100).toFixed(2)}% differ)`,
    );
  });

  it('hides and shows the overlay again (a hidden layer comes back without refetching)', async () => {
    const shown = await keepScreenshot(page, 'overlay-shown');
    await page.evaluate(() =>
      (document.querySelector('impartial-viewer') as unknown as Viewer).setLayers({
        prediction: false,
        entropy: false,
      }),
    );
    await viewerSettled(page, 'the view without the overlay');
    const hidden = await keepScreenshot(page, 'overlay-hidden');
    assert.ok(
      changed(shown, hidden) > 0.05,
      `hiding the overlay changed the view (${(changed(shown, hidden) * 100).toFixed(1)}%)`,
    );
    const before = chunkRequests.length;
    await page.evaluate(() =>
      (document.querySelector('impartial-viewer') as unknown as Viewer).setLayers({ prediction: true, entropy: true }),
    );
    await viewerSettled(page, 'the overlay shown again');
    const again = await keepScreenshot(page, 'overlay-shown-again');
    assert.ok(
      changed(shown, again) < 0.01,
      `the overlay is back as it was (${(changed(shown, again) * 100).toFixed(2)}% differ)`,
    );
    assert.equal(chunkRequests.length, before, 'showing a hidden overlay fetched nothing');
  });

  it('takes more scribble classes from its palette: a button and key each, drawn in their colour', async () => {
    await page.evaluate(() => {
      const v = document.querySelector('impartial-viewer') as unknown as {
        classes: unknown[];
        setLayers(l: object): void;
        focus(): void;
      };
      v.classes = [...v.classes, { id: 3, name: 'Mitosis', color: [255, 170, 0] }];
      v.setLayers({ prediction: false, entropy: false });
      v.focus();
    });
    await page.getByRole('button', { name: 'Mitosis' }).waitFor({ timeout: 5000 });
    await page.keyboard.press('3');
    await page.mouse.move(400, 300);
    await page.mouse.down();
    for (let k = 1; k <= 10; k++) await page.mouse.move(400 + 15 * k, 300 + 5 * k);
    await page.mouse.up();
    await page.waitForFunction(
      () =>
        /saved · 3 stroke/.test(
          (document.querySelector('impartial-viewer') as HTMLElement).shadowRoot!.querySelector('.status')!
            .textContent ?? '',
        ),
      null,
      { timeout: 10_000 },
    );
    const last = (await t.bridge.services.strokes.drawings(SYSTEM, image.id)).at(-1)!;
    assert.equal(last.op === 'add' && last.class, 3, 'the stroke carries the third class');
    await viewerSettled(page, 'the stroke in the third class');
    const png = decodePng(new Uint8Array(await keepScreenshot(page, 'palette-third-class')));
    let orange = 0;
    for (let i = 0; i < png.data.length; i += png.channels)
      if (png.data[i]! > 220 && png.data[i + 1]! > 120 && png.data[i + 1]! < 200 && png.data[i + 2]! < 60) orange++;
    assert.ok(orange > 50, `drawn in the class colour (${orange} orange pixels)`);
    await page.evaluate(() => {
      const v = document.querySelector('impartial-viewer') as unknown as {
        setLayers(l: object): void;
        setTool(t: string): void;
      };
      v.setLayers({ prediction: true, entropy: true });
      v.setTool('pan');
    });
    await viewerSettled(page, 'the overlay back on');
  });

  it('trains for a number of steps from the panel, then goes back to the first model version', async () => {
    const v = 'document.querySelector("impartial-viewer")';
    await page.evaluate(() => {
      (document.querySelector('impartial-viewer') as unknown as { trainOptions: object }).trainOptions = {
        depth: 2,
        base: 4,
        batchSize: 2,
        patch: 32,
        init: 'scratch',
      };
    });
    const budget = page.locator('impartial-viewer [name=budget]');
    await budget.fill('2');
    await page.locator('impartial-viewer [name=unit]').selectOption('steps');
    const models = () => page.evaluate(`${v}.panel.models.map((m) => m.id + ':' + m.steps)`) as Promise<string[]>;
    const before = await models();
    await page.getByRole('button', { name: 'Train' }).click();
    // A new version, and its prediction complete and shown.
    await page.waitForFunction(
      (count) => {
        const el = document.querySelector('impartial-viewer')!;
        const shown = el.prediction?.record;
        return el.panel.models.length === count && shown?.status === 'complete' && shown.model === el.panel.current;
      },
      before.length + 1,
      { timeout: 120_000 },
    );
    const after = await models();
    assert.match(after.at(-1)!, /:2$/, `the new version trained 2 steps (${after.join(', ')})`);
    // Back to the first version: it becomes current on the bridge and its prediction is shown.
    const first = record.model;
    await page.locator('impartial-viewer .model', { hasText: first.slice(0, 12) }).click();
    await page.waitForFunction(
      (model) => {
        const el = document.querySelector('impartial-viewer')!;
        const shown = el.prediction?.record;
        return el.panel.current === model && shown?.model === model && shown.status === 'complete';
      },
      first,
      { timeout: 60_000 },
    );
    const project = ((await (await t.api(`/api/images/${image.id}`)).json()) as { project: string }).project;
    const current = (await (await t.api(`/api/projects/${project}`)).json()) as { currentModel: string | null };
    assert.equal(current.currentModel, first, "the bridge's current model is the chosen one");
    record = (await page.evaluate(`${v}.prediction.record`)) as PredictionRecord;
  });

  const refetchTest =
    'refetches only the tiles a `tiles` message names, and every visible tile when the prediction completes';
  it(refetchTest, async () => {
    const refresh = async (tiles: unknown[]) => {
      // Whatever an earlier refresh still has in flight first lands, so that only this one is counted.
      await viewerSettled(page, 'the tiles of the refresh before');
      const start = chunkRequests.length;
      await page.evaluate(
        ([r, tl]) => (document.querySelector('impartial-viewer') as unknown as Viewer).showPrediction(r, tl),
        [record, tiles] as const,
      );
      // Every tile the refresh asked for is in (their requests went out before).
      await viewerSettled(page, 'the refreshed tiles');
      return chunkRequests.slice(start);
    };
    const one = await refresh([{ x: 0, y: 0, width: 256, height: 256 }]);
    // One tile of the shown level: its labels chunk and its entropy chunk.
    assert.equal(one.length, 2, `one tile refetched: ${one.join(', ')}`);
    const all = await refresh([]);
    assert.ok(all.length >= 8, `a complete prediction refetches every visible tile (${all.length} chunks)`);
  });
});
