// Tests of viewer-plugin/src/layers/contrast.ts: windows fit the cells at full resolution, and the overview
// of a multiplexed slide is not added up to white.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { syntheticSlideSource, writeOmeZarrFromSource } from '@impartial/shared';
import { FileSystemStore } from '@impartial/shared/node';
import {
  brightestPixel,
  type ChannelWindow,
  contrastWindow,
  contrastWindows,
} from '@impartial/viewer-plugin/layers/contrast';
import { loadOmeZarr } from '@vivjs/loaders';
import { serveFolder } from '../../../helpers/static-server.js';

const SIDE = 4096;
const CHANNELS = 8;

describe('contrast windows', () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof serveFolder>>;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'impartial-contrast-'));
    const source = syntheticSlideSource({ width: SIDE, height: SIDE, channels: CHANNELS, seed: 1 });
    await writeOmeZarrFromSource(new FileSystemStore(path.join(dir, 'slide.ome.zarr')), source, { name: 'slide' });
    server = await serveFolder(dir);
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('the brightest place weighs every channel by its own maximum', () => {
    // Channel 0 peaks alone at 0 (100); at 2 both channels are near their maxima.
    assert.equal(
      brightestPixel([
        [100, 0, 90],
        [0, 1, 0.9],
      ]),
      2,
    );
    assert.equal(
      brightestPixel([
        [0, 0],
        [0, 0],
      ]),
      0,
      'empty channels: the first pixel',
    );
  });

  it('a two-valued channel gets its full range, not an empty window', () => {
    const mask = new Uint8Array(100).fill(0);
    mask.fill(255, 0, 10);
    assert.deepEqual(contrastWindow(mask).window, [0, 255]);
  });

  it('windows of a multiplexed slide fit its cells; its overview composited with them is not white', async () => {
    const image = await loadOmeZarr(`${server.url}/slide.ome.zarr`, { type: 'multiscales' });
    assert.ok(image.data.length >= 4, `a pyramid of ${image.data.length} levels`);
    const windows = await contrastWindows(
      image,
      Array.from({ length: CHANNELS }, (_, c) => c),
    );
    // The reference, independent of the code under test: each channel's 99.5th percentile over a
    // full-resolution band of rows through the middle of the slide, where there is tissue.
    const rows = await syntheticSlideSource({ width: SIDE, height: SIDE, channels: CHANNELS, seed: 1 }).readRows(
      SIDE / 2,
      64,
    );
    for (let c = 0; c < CHANNELS; c++) {
      const bright = Float64Array.from(rows[c]!).sort()[Math.floor(0.995 * rows[c]!.length)]!;
      const [low, high] = windows[c]!.window;
      assert.ok(low < 20, `channel ${c}: the window starts near the background (${low})`);
      assert.ok(
        high > 0.7 * bright && high <= 255,
        `channel ${c}: the window reaches the cells' brightness (${high} vs ${bright} at full resolution)`,
      );
    }
    const white = whiteShare(await coarsest(image), windows.slice(0, 6));
    assert.ok(white < 0.01, `the overview with 6 channels shown: ${(white * 100).toFixed(2)}% white`);
  });
});

/** The coarsest level, one plane per channel. */
async function coarsest(image: Awaited<ReturnType<typeof loadOmeZarr>>): Promise<ArrayLike<number>[]> {
  const level = image.data.at(-1)!;
  return Promise.all(
    Array.from(
      { length: CHANNELS },
      async (_, c) => ((await level.getRaster({ selection: { c } } as never)) as { data: ArrayLike<number> }).data,
    ),
  );
}

/** Share of pixels that six channels in the file's colours (blue, green, red, yellow, magenta, cyan) add up
 * to white. */
function whiteShare(planes: ArrayLike<number>[], windows: ChannelWindow[]): number {
  const colors = [
    [0, 0, 1],
    [0, 1, 0],
    [1, 0, 0],
    [1, 1, 0],
    [1, 0, 1],
    [0, 1, 1],
  ];
  let white = 0;
  const n = planes[0]!.length;
  for (let i = 0; i < n; i++) {
    const rgb = [0, 0, 0];
    windows.forEach(({ window: [low, high] }, c) => {
      const v = Math.max(0, Math.min(1, (planes[c]![i]! - low) / (high - low)));
      for (let k = 0; k < 3; k++) rgb[k]! += 255 * colors[c]![k]! * v;
    });
    if (rgb.every((x) => x >= 230)) white++;
  }
  return white / n;
}
