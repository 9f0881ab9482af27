// The outline tool in headless Chromium: a lasso around a cell and a polygon of clicks become outline
// strokes on the bridge (cell inside, border background), undone and redone as one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SYSTEM } from '@impartial/bridge-server';
import { type ImageRecord, type LabelImage, labelOutlines, type Polygon } from '@impartial/shared';
import FetchStore from '@zarrita/storage/fetch';
import type { Browser, Page } from 'playwright-core';
import * as zarr from 'zarrita';
import { projectWithImage, startTestBridge, syntheticTiff, type TestBridge } from '../helpers/bridge.js';
import { chromiumMissing, keepScreenshot, launchChromium } from '../helpers/browser.js';
import { viewerConnected, viewerSettled, waitInPage } from '../helpers/viewer-page.js';

const missing = process.env.CI ? undefined : chromiumMissing();
const SIZE = 256;
const SEED = 9;

type Viewer = HTMLElement & {
  view: { target: number[]; zoom: number };
  redraw(): void;
  client: { drawings: Array<{ seq: number; ref?: string }>; pending: Map<string, unknown> };
  stage: { viewport: { project(p: number[]): number[] } };
};

/** Cells of the synthetic image a person would outline: whole, of a typical size, away from the edges. */
function cellsToOutline(labels: LabelImage): Array<{ id: number; outline: Polygon; pixels: number }> {
  const area = new Map<number, number>();
  for (const v of labels.data) if (v) area.set(v, (area.get(v) ?? 0) + 1);
  const out = [];
  for (const [id, outline] of labelOutlines(labels)) {
    const xs = outline.map((p) => p[0]),
      ys = outline.map((p) => p[1]);
    const inside =
      Math.min(...xs) > 24 && Math.min(...ys) > 24 && Math.max(...xs) < SIZE - 24 && Math.max(...ys) < SIZE - 24;
    const pixels = area.get(id) ?? 0;
    if (inside && pixels >= 150 && pixels <= 700) out.push({ id, outline, pixels });
  }
  return out;
}

/** Centres the view on an image point at 8 screen pixels per image pixel; the point's screen position. */
async function showAt(page: Page, x: number, y: number): Promise<void> {
  await page.evaluate(
    ([cx, cy]) => {
      const v = document.querySelector('impartial-viewer') as unknown as Viewer;
      // A little right of the middle, so the cell stays clear of the side panel.
      v.view = { target: [cx! + 12, cy!, 0], zoom: 3 };
      v.redraw();
    },
    [x, y],
  );
  await viewerSettled(page, 'the view on the cell');
}

/** Level-0 image points on the page (CSS pixels), as the element's deck viewport projects them. */
function onPage(page: Page, points: Polygon): Promise<Array<[number, number]>> {
  return page.evaluate(
    (pts) => {
      const v = document.querySelector('impartial-viewer') as unknown as Viewer;
      const stage = v.shadowRoot!.querySelector('.stage')!.getBoundingClientRect();
      return pts.map((p) => {
        const [sx, sy] = v.stage.viewport.project(p as number[]);
        return [stage.left + sx!, stage.top + sy!] as [number, number];
      });
    },
    points as Array<[number, number]>,
  );
}

/** Waits until nothing waits to be saved and the page has at least `n` drawings in effect. */
const saved = (page: Page, n: number, what: string) =>
  waitInPage(
    page,
    (least) => {
      const v = document.querySelector('impartial-viewer') as unknown as Viewer;
      return v.client.pending.size === 0 && v.client.drawings.length >= least;
    },
    n,
    { timeoutMs: 15_000, what },
  );

/** Waits until the page has exactly `n` drawings in effect. */
const drawingsBecome = (page: Page, n: number, what: string) =>
  waitInPage(
    page,
    (count) => (document.querySelector('impartial-viewer') as unknown as Viewer).client.drawings.length === count,
    n,
    { timeoutMs: 15_000, what },
  );

const drawingCount = (page: Page) =>
  page.evaluate(() => (document.querySelector('impartial-viewer') as unknown as Viewer).client.drawings.length);

describe('the outline tool in headless Chromium', { skip: missing, timeout: 300_000 }, () => {
  let t: TestBridge;
  let browser: Browser;
  let image: ImageRecord;
  let page: Page;
  const labels = syntheticTiff(SIZE, SEED).labels;
  const cells = cellsToOutline(labels);

  before(async () => {
    const absent = chromiumMissing();
    if (absent) throw new Error(`CI must run the browser tests: ${absent}`);
    t = await startTestBridge();
    image = await projectWithImage(t, SIZE, SEED);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    await page.goto(`${t.bridge.viewerUrl}?image=${image.id}&name=olive`);
    await viewerConnected(page, 'the viewer connected');
    await page.evaluate(() => (document.querySelector('impartial-viewer') as HTMLElement).focus());
    await page.keyboard.press('o');
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  /** The bridge's scribble raster over the whole image. */
  async function scribbles(): Promise<Uint8Array> {
    await t.bridge.settle();
    const store = new FetchStore(`${t.bridge.url}/zarr/images/${image.id}`, {
      overrides: { headers: { Authorization: `Bearer ${t.bridge.token}` } },
    });
    const arr = await zarr.open.v2(zarr.root(store).resolve('labels/scribbles/0'), { kind: 'array' });
    return ((await zarr.get(arr, [null, null])) as { data: Uint8Array }).data;
  }

  /** Where the raster marks `cell`: cell-class pixels inside it, background pixels on its border. */
  function marks(raster: Uint8Array, cell: number) {
    const at = (x: number, y: number) => (x < 0 || y < 0 || x >= SIZE || y >= SIZE ? 0 : labels.data[y * SIZE + x]);
    let inside = 0,
      cellPixels = 0,
      onBorder = 0,
      backgroundPixels = 0;
    for (let y = 0; y < SIZE; y++)
      for (let x = 0; x < SIZE; x++) {
        const v = raster[y * SIZE + x];
        if (v === 1) {
          cellPixels++;
          if (at(x, y) === cell) inside++;
        } else if (v === 2) {
          backgroundPixels++;
          let inCell = false,
            outCell = false;
          for (let dy = -1; dy <= 1; dy++)
            for (let dx = -1; dx <= 1; dx++) {
              if (at(x + dx, y + dy) === cell) inCell = true;
              else outCell = true;
            }
          if (inCell && outCell) onBorder++;
        }
      }
    return { inside, cellPixels, onBorder, backgroundPixels };
  }

  it('a lasso dragged around a cell becomes its outline: the inside cell, the border background', async () => {
    assert.ok(cells.length >= 2, `the synthetic image has cells to outline (${cells.length})`);
    const cell = cells[0]!;
    const xs = cell.outline.map((p) => p[0]),
      ys = cell.outline.map((p) => p[1]);
    await showAt(page, (Math.min(...xs) + Math.max(...xs)) / 2, (Math.min(...ys) + Math.max(...ys)) / 2);
    const path = await onPage(page, cell.outline);
    const side = await page.evaluate(
      () =>
        (document.querySelector('impartial-viewer') as HTMLElement)
          .shadowRoot!.querySelector('.side')!
          .getBoundingClientRect().left,
    );
    assert.ok(
      path.every(([x]) => x < side - 4),
      'the cell is on the stage, left of the side panel',
    );
    await page.mouse.move(...path[0]!);
    await page.mouse.down();
    for (const p of path.slice(1)) await page.mouse.move(p[0], p[1], { steps: 2 });
    await page.mouse.up();
    await saved(page, 3, 'the outline saved');
    const drawn = await t.bridge.services.strokes.drawings(SYSTEM, image.id);
    assert.ok(drawn.length >= 3, `skeleton, ring and border strokes (${drawn.length})`);
    assert.equal(new Set(drawn.map((d) => d.ref)).size, 1, 'all from one request');
    assert.ok(drawn.every((d) => d.author === 'olive'));
    await viewerSettled(page, 'the outline drawn');
    await keepScreenshot(page, 'viewer-outline-lasso');

    const m = marks(await scribbles(), cell.id);
    assert.ok(m.cellPixels >= 10, `cell strokes inside (${m.cellPixels} px)`);
    assert.ok(m.inside / m.cellPixels >= 0.95, `the cell strokes lie in the cell (${m.inside}/${m.cellPixels})`);
    assert.ok(
      m.onBorder / m.backgroundPixels >= 0.9,
      `the background strokes lie on its border (${m.onBorder}/${m.backgroundPixels})`,
    );
  });

  it('clicked corners make a polygon, closed with Enter; one undo takes it all back, one redo returns it', async () => {
    const cell = cells[1]!;
    const xs = cell.outline.map((p) => p[0]),
      ys = cell.outline.map((p) => p[1]);
    await showAt(page, (Math.min(...xs) + Math.max(...xs)) / 2, (Math.min(...ys) + Math.max(...ys)) / 2);
    // Every few vertices of the traced outline, as a person clicks the corners of a cell.
    const step = Math.max(1, Math.floor(cell.outline.length / 12));
    const corners = await onPage(
      page,
      cell.outline.filter((_, k) => k % step === 0),
    );
    const before = await drawingCount(page);
    for (const [x, y] of corners) await page.mouse.click(x, y);
    assert.equal(await drawingCount(page), before, 'nothing is sent before the polygon is closed');
    await page.keyboard.press('Enter');
    await saved(page, 6, 'the polygon saved');
    const after = await drawingCount(page);
    const m = marks(await scribbles(), cell.id);
    assert.ok(m.inside >= 10, `cell strokes inside the second cell (${m.inside} px)`);

    await page.keyboard.press('Control+z');
    await drawingsBecome(page, before, 'the whole polygon undone');
    assert.equal((await t.bridge.services.strokes.drawings(SYSTEM, image.id)).length, before);
    assert.equal(marks(await scribbles(), cell.id).inside, 0, 'none of its strokes is left');
    await page.keyboard.press('Control+Shift+z');
    await drawingsBecome(page, after, 'the whole polygon redone');
  });

  it('Escape drops a polygon being placed; nothing is sent', async () => {
    const before = await drawingCount(page);
    await page.mouse.click(400, 300);
    await page.mouse.click(440, 300);
    await page.mouse.click(440, 340);
    await page.keyboard.press('Escape');
    await page.keyboard.press('Enter');
    const saved = await page.evaluate(
      () => (document.querySelector('impartial-viewer') as unknown as Viewer).client.pending.size,
    );
    assert.equal(saved, 0, 'no outline waits to be saved');
    assert.equal((await t.bridge.services.strokes.drawings(SYSTEM, image.id)).length, before);
  });
});
