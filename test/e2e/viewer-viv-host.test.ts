// The Viv-host example in headless Chromium: a page that draws the image with its own deck.gl and Viv
// layer, plus ImPartial's layers (`@impartial/viewer-plugin/host`). The predicted cells must land on
// the pixels of their labels, and a stroke drawn there must reach the bridge.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SYSTEM } from '@impartial/bridge-server';
import { type ImageRecord, openArray, readRegion } from '@impartial/shared';
import { FileSystemStore } from '@impartial/shared/node';
import type { LogEntry, PredictionRecord } from '@impartial/shared/protocol';
import { cellColor } from '@impartial/viewer-plugin/layers/overlay-pixels';
import { decode as decodePng } from 'fast-png';
import type { Browser, Page } from 'playwright-core';
import {
  folderOf,
  line,
  projectWithImage,
  startTestBridge,
  syntheticTiff,
  type TestBridge,
  TestClient,
} from '../helpers/bridge.js';
import { chromiumMissing, keepScreenshot, launchChromium } from '../helpers/browser.js';
import { waitInPage } from '../helpers/viewer-page.js';

const missing = process.env.CI ? undefined : chromiumMissing();
const SIZE = 256;
const SEED = 11;
// Two screen pixels per image pixel: each image pixel is a 2x2 block, sampled at its centre.
const ZOOM = 1;

type Host = {
  deck: {
    getViewports(): Array<{ project(p: number[]): number[] }>;
    props: { layers: Array<{ id: string }> };
  };
  overlay: {
    prediction: PredictionRecord | null;
    setLayers(s: object): void;
    layers(viewId?: string): Array<{ id: string; props: { visible: boolean } }>;
    client: { pending: Map<string, unknown>; drawings: unknown[] };
  };
  setView(v: { target: number[]; zoom: number }): void;
  settled: boolean;
};

const settled = (page: Page, what: string) =>
  waitInPage(page, () => (window as unknown as { vivHost?: Host }).vivHost?.settled === true, undefined, {
    timeoutMs: 30_000,
    what: `${what} (the Viv host drew every tile)`,
  });

/** The canvas box as RGB rows, and where image pixel (0, 0)'s top-left corner is on it. */
async function shot(page: Page, name: string) {
  await keepScreenshot(page, name);
  const png = decodePng(new Uint8Array(await page.locator('#canvas').screenshot()));
  const [x0, y0] = await page.evaluate(
    () => (window as unknown as { vivHost: Host }).vivHost.deck.getViewports()[0]!.project([0, 0]) as [number, number],
  );
  const scale = 2 ** ZOOM;
  /** The colour shown at image pixel (x, y). */
  return (x: number, y: number): [number, number, number] => {
    const sx = Math.floor(x0 + (x + 0.5) * scale),
      sy = Math.floor(y0 + (y + 0.5) * scale);
    const o = (sy * png.width + sx) * png.channels;
    return [png.data[o]!, png.data[o + 1]!, png.data[o + 2]!];
  };
}

/** Centres of 5 true cells (class 1) and 5 spots of clear background (class 2): [x, y, class]. */
function strokeSpots(truth: ArrayLike<number>): Array<[number, number, number]> {
  const sums = new Map<number, [number, number, number]>();
  for (let i = 0; i < truth.length; i++) {
    const v = truth[i]!;
    if (!v) continue;
    const s = sums.get(v) ?? [0, 0, 0];
    sums.set(v, [s[0] + (i % SIZE), s[1] + Math.floor(i / SIZE), s[2] + 1]);
  }
  const cells = [...sums.entries()]
    .filter(([v, [x, y, n]]) => n >= 100 && truth[Math.round(y / n) * SIZE + Math.round(x / n)] === v)
    .slice(0, 5)
    .map(([, [x, y, n]]): [number, number, number] => [Math.round(x / n), Math.round(y / n), 1]);
  const clear = (x: number, y: number) => {
    for (let dy = -6; dy <= 6; dy++) for (let dx = -6; dx <= 6; dx++) if (truth[(y + dy) * SIZE + x + dx]) return false;
    return true;
  };
  const background: Array<[number, number, number]> = [];
  for (let y = 16; y < SIZE - 16 && background.length < 5; y += 24)
    for (let x = 16; x < SIZE - 16 && background.length < 5; x += 24) if (clear(x, y)) background.push([x, y, 2]);
  return [...cells, ...background];
}

const near = (a: readonly number[], b: readonly number[], tolerance: number) =>
  a.every((v, k) => Math.abs(v - b[k]!) <= tolerance);

describe('a plain Viv host with ImPartial layers', { skip: missing, timeout: 300_000 }, () => {
  let t: TestBridge;
  let browser: Browser;
  let image: ImageRecord;
  let page: Page;
  let ws: TestClient;
  let labels: Uint32Array;

  before(async () => {
    const absent = chromiumMissing();
    if (absent) throw new Error(`CI must run the browser tests: ${absent}`);
    t = await startTestBridge();
    image = await projectWithImage(t, SIZE, SEED, 'p1', { unsaturated: true });
    ws = await TestClient.join(t.bridge, image.id, 'annotator');
    // Dots in a few true cells and on clear background, as a person would start.
    for (const [k, [x, y, cls]] of strokeSpots(syntheticTiff(SIZE, SEED).labels.data).entries())
      ws.send({ type: 'draw', ref: `s${k}`, drawing: line(x, y, x + 1, y, cls, 3) });
    // From the shipped 2-channel model (the bridge's default start): cells from the first prediction.
    ws.send({ type: 'train-start', ref: 't', options: { steps: 2, batchSize: 2, patch: 64 } });
    const model = await ws.next((m) => m.type === 'model', 120_000, 'model');
    ws.send({ type: 'infer', ref: 'i', request: {} });
    await ws.next((m) => m.type === 'tiles' && m.prediction.status === 'complete', 120_000);
    const zarr = new FileSystemStore(
      folderOf(await t.bridge.services.predictions.zarrFiles(SYSTEM, image.id, model.model.id)),
    );
    labels = Uint32Array.from(await readRegion(await openArray(zarr, 'labels/instances/0'), 0, 0, SIZE, SIZE));
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 900, height: 640 } });
    await page.goto(`${t.bridge.viewerUrl}examples/viv-host.html?image=${image.id}`);
    await waitInPage(
      page,
      () => (window as unknown as { vivHost?: Host }).vivHost?.overlay.prediction?.status === 'complete',
      undefined,
      { timeoutMs: 30_000, what: 'the host opened the prediction' },
    );
  });
  after(async () => {
    ws?.close();
    await browser?.close();
    await t?.stop();
  });

  it("draws the host's image, then the predicted cells over the pixels of their labels", async () => {
    const cells = new Set(labels).size - 1;
    assert.ok(cells >= 10, `the prediction has cells to check against (${cells})`);
    await page.evaluate(
      ([size, zoom]) => {
        const host = (window as unknown as { vivHost: Host }).vivHost;
        host.setView({ target: [size! / 2, size! / 2, 0], zoom: zoom! });
        // Opaque fills, no entropy, no strokes: each cell pixel must show its cell's own colour.
        host.overlay.setLayers({ entropy: false, strokes: false, predictionOpacity: 1, labelStyle: 'fill' });
      },
      [SIZE, ZOOM],
    );
    await settled(page, 'the cells shown');
    assert.deepEqual(
      await page.evaluate(() => (window as unknown as { vivHost: Host }).vivHost.deck.props.layers.map((l) => l.id)),
      [
        'host-image',
        'impartial-entropy',
        'impartial-prediction',
        'impartial-scribbles-halo',
        'impartial-scribbles',
        'impartial-drawing-halo-0',
        'impartial-drawing-0',
      ],
    );
    const withCells = await shot(page, 'viv-host-cells');
    await page.evaluate(() =>
      (window as unknown as { vivHost: Host }).vivHost.overlay.setLayers({ prediction: false }),
    );
    await settled(page, 'the cells hidden');
    const imageOnly = await shot(page, 'viv-host-image');

    const at = (x: number, y: number) => (x < 0 || y < 0 || x >= SIZE || y >= SIZE ? -1 : labels[y * SIZE + x]!);
    // Per cell: its interior pixels, and how many of them show its colour.
    const perCell = new Map<number, [number, number]>();
    let inside = 0,
      lit = 0,
      outside = 0,
      unchanged = 0;
    for (let y = 1; y < SIZE - 1; y++)
      for (let x = 1; x < SIZE - 1; x++) {
        const v = at(x, y);
        let ring = true;
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) ring &&= at(x + dx, y + dy) === v;
        if (!ring) continue; // the pixel and its 8 neighbours have one label
        if (v > 0) {
          inside++;
          const c = perCell.get(v) ?? [0, 0];
          perCell.set(v, [c[0] + 1, c[1] + (near(withCells(x, y), cellColor(v), 6) ? 1 : 0)]);
          if (imageOnly(x, y).some((c) => c > 40)) lit++;
        } else {
          outside++;
          if (near(withCells(x, y), imageOnly(x, y), 6)) unchanged++;
        }
      }
    assert.ok(inside > 500 && outside > 500, `pixels to check: ${inside} in cells, ${outside} around them`);
    // Each cell on its own pixels (a layer 2 image pixels off leaves 3-15% of a cell's pixels in other colours).
    const checked = [...perCell.values()].filter(([n]) => n >= 30);
    const placed = checked.filter(([n, ok]) => ok / n >= 0.98).length;
    assert.ok(checked.length >= 10, `cells with 30 or more interior pixels: ${checked.length}`);
    assert.ok(
      placed / checked.length >= 0.9,
      `cells drawn in their colour over their pixels: ${placed}/${checked.length}`,
    );
    assert.ok(unchanged / outside >= 0.98, `background pixels left as the image: ${unchanged}/${outside}`);
    assert.ok(lit / inside >= 0.5, `the host's image layer draws the cells' stain: ${lit}/${inside}`);
  });

  it('names its layers for a Viv view and hides them as the settings say (deck.gl needs a browser)', async () => {
    const layers = await page.evaluate(() => {
      const overlay = (window as unknown as { vivHost: Host }).vivHost.overlay;
      overlay.setLayers({ strokes: false, prediction: true, entropy: false });
      return overlay.layers('detail').map((l) => [l.id, l.props.visible] as const);
    });
    assert.deepEqual(layers, [
      ['impartial-entropy-#detail#', false],
      ['impartial-prediction-#detail#', true],
      ['impartial-scribbles-halo-#detail#', false],
      ['impartial-scribbles-#detail#', false],
      ['impartial-drawing-#detail#-halo-0', true],
      ['impartial-drawing-#detail#-0', true],
    ]);
    await page.evaluate(() => (window as unknown as { vivHost: Host }).vivHost.overlay.setLayers({ strokes: true }));
  });

  it("shows the shipped starting model's prediction of the view on an image with no model", async () => {
    const fresh = await projectWithImage(t, SIZE, 12, 'fresh', { unsaturated: true });
    const other = await browser.newPage({ viewport: { width: 900, height: 640 } });
    const said: string[] = [];
    other.on('console', (m) => said.push(m.text()));
    other.on('pageerror', (e) => said.push(e.message));
    await other.goto(`${t.bridge.viewerUrl}examples/viv-host.html?image=${fresh.id}`);
    try {
      await waitInPage(
        other,
        () => (window as unknown as { vivHost?: Host }).vivHost?.overlay.prediction?.status === 'complete',
        undefined,
        { timeoutMs: 60_000, what: "the starting model's prediction in the host" },
      );
    } catch (e) {
      const status = await other.locator('#status').textContent();
      const jobs = await t.bridge.services.jobs.list(SYSTEM, 'fresh').catch((x: Error) => x.message);
      throw new Error(
        `${(e as Error).message}; status: ${status}; page: ${said.join(' | ')}; jobs: ${JSON.stringify(jobs)}`,
      );
    }
    const models = await t.bridge.services.models.list(SYSTEM, 'fresh');
    assert.equal(models.length, 1);
    assert.equal(models[0]!.author, 'generic', 'the shipped model, added as the first version');
    await other.close();
  });

  it('sends a stroke drawn with the cell brush to the bridge, which another client receives', async () => {
    const box = (await page.locator('#canvas').boundingBox())!;
    const onPage = (p: [number, number]) =>
      page.evaluate(
        ([x, y]) =>
          (window as unknown as { vivHost: Host }).vivHost.deck.getViewports()[0]!.project([x!, y!]) as [
            number,
            number,
          ],
        p,
      );
    const from = await onPage([60, 60]),
      to = await onPage([100, 80]);
    await page.getByRole('button', { name: 'Cell brush' }).click();
    const arrived = ws.upcoming((m) => m.type === 'entry' && m.entry.author === 'viv-host', 15_000);
    await page.mouse.move(box.x + from[0], box.y + from[1]);
    await page.mouse.down();
    await page.mouse.move(box.x + to[0], box.y + to[1], { steps: 8 });
    await page.mouse.up();
    const entry = ((await arrived) as { entry: LogEntry }).entry;
    assert.equal(entry.op, 'add');
    if (entry.op !== 'add') return;
    assert.equal(entry.class, 1);
    assert.equal(entry.width, 4);
    assert.ok(near(entry.points[0]!, [60, 60], 1), `starts where pressed: ${entry.points[0]}`);
    assert.ok(near(entry.points.at(-1)!, [100, 80], 1), `ends where released: ${entry.points.at(-1)}`);
    await waitInPage(
      page,
      () => {
        const c = (window as unknown as { vivHost: Host }).vivHost.overlay.client;
        return c.pending.size === 0 && c.drawings.length === 11;
      },
      undefined,
      { timeoutMs: 15_000, what: 'the host page saw its stroke saved' },
    );
  });
});
