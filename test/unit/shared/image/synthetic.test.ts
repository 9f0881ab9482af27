// Tests of shared/src/image/synthetic.ts: seeded synthetic cell images (syntheticCells).
import assert from 'node:assert/strict';
import test from 'node:test';
import { connectedComponents, labelAreas, syntheticCells } from '@impartial/shared';

test('synthetic images are seeded: same seed, same pixels; another seed, another image', () => {
  const a = syntheticCells({ width: 64, height: 48, channels: 3, seed: 7 });
  const b = syntheticCells({ width: 64, height: 48, channels: 3, seed: 7 });
  const c = syntheticCells({ width: 64, height: 48, channels: 3, seed: 8 });
  assert.deepEqual(a.image.data, b.image.data);
  assert.deepEqual(a.labels.data, b.labels.data);
  assert.notDeepEqual(a.labels.data, c.labels.data);
});

test('2 to 8 channels, any size, named channels; other counts are refused', () => {
  for (const channels of [2, 5, 8]) {
    const s = syntheticCells({ width: 37, height: 53, channels, seed: 1 });
    assert.equal(s.image.channels, channels);
    assert.equal(s.image.data.length, 37 * 53 * channels);
    assert.equal(s.image.channelNames?.length, channels);
    assert.equal(s.labels.data.length, 37 * 53);
    assert.ok(s.image.data.every((v) => Number.isFinite(v) && v >= 0));
  }
  assert.throws(() => syntheticCells({ width: 8, height: 8, channels: 1, seed: 0 }), /2-8 channels/);
  assert.throws(() => syntheticCells({ width: 8, height: 8, channels: 9, seed: 0 }), /2-8 channels/);
});

test('ground truth: cells of two sizes, many touching, each one connected piece', () => {
  const { labels, image } = syntheticCells({ width: 256, height: 256, channels: 3, seed: 3 });
  const areas = [...labelAreas(labels.data)]
    .slice(1)
    .filter((a) => a > 0)
    .sort((x, y) => x - y);
  assert.ok(areas.length > 100, `${areas.length} cells`);
  assert.ok(
    areas[Math.floor(areas.length * 0.9)]! > 2.5 * areas[Math.floor(areas.length * 0.1)]!,
    'small immune and large epithelial cells',
  );
  let touching = 0;
  const w = labels.width;
  for (let i = 0; i < labels.data.length - 1; i++) {
    const k = labels.data[i]!,
      r = labels.data[i + 1]!;
    if (k && r && k !== r && (i + 1) % w !== 0) touching++;
  }
  assert.ok(touching > 200, `${touching} pixel pairs where two cells touch`);
  // the nuclear channel is brighter inside cells than outside
  const n = w * labels.height;
  let inside = 0,
    outside = 0,
    ni = 0,
    no = 0;
  for (let i = 0; i < n; i++) {
    if (labels.data[i]) {
      inside += image.data[i]!;
      ni++;
    } else {
      outside += image.data[i]!;
      no++;
    }
  }
  assert.ok(inside / ni > 2 * (outside / no));
  // every cell is one 4-connected piece (crumbs cut off by neighbours are cleared)
  const ids = [...new Set(labels.data)].filter((v) => v > 0);
  let fragmented = 0;
  for (const id of ids) {
    const mask = labels.data.map((v) => (v === id ? 1 : 0)) as unknown as Uint8Array;
    if (connectedComponents(Uint8Array.from(mask), w, labels.height).count > 1) fragmented++;
  }
  assert.equal(fragmented, 0, `${fragmented} of ${ids.length} cells in pieces`);
});

test('realistic tissue: seeded, unlike the classic, membranes faint to bright, cells without a nucleus', () => {
  const options = { width: 192, height: 192, channels: 2, seed: 3, density: 0.8, clustered: 0.9, realistic: true };
  const a = syntheticCells(options),
    b = syntheticCells(options);
  assert.deepEqual(a.image.data, b.image.data, 'seeded');
  const classic = syntheticCells({ ...options, realistic: false });
  assert.notDeepEqual(a.image.data, classic.image.data);
  const { width, height } = a.labels,
    n = width * height,
    labels = a.labels.data;
  // Per cell: its area, its mean membrane (channel 1 on its border) and its brightest nuclear pixel (channel 0).
  const cells = new Map<number, { area: number; border: number[]; nuclear: number }>();
  for (let i = 0; i < n; i++) {
    const k = labels[i]!;
    if (!k) continue;
    const c = cells.get(k) ?? { area: 0, border: [], nuclear: 0 };
    c.area++;
    const x = i % width;
    const edge = [x > 0 ? i - 1 : i, x < width - 1 ? i + 1 : i, i - width, i + width].some((j) => labels[j] !== k);
    if (edge) c.border.push(a.image.data[n + i]!);
    c.nuclear = Math.max(c.nuclear, a.image.data[i]!);
    cells.set(k, c);
  }
  const big = [...cells.values()].filter((c) => c.area > 150);
  assert.ok(big.length > 20, `${big.length} large cells`);
  const membrane = big.map((c) => c.border.reduce((s, v) => s + v, 0) / c.border.length).sort((p, q) => p - q);
  assert.ok(membrane[membrane.length - 1]! > 3 * membrane[0]!, `membranes range ${membrane[0]}..${membrane.at(-1)}`);
  const nuclear = big.map((c) => c.nuclear).sort((p, q) => p - q);
  assert.ok(nuclear[0]! < 0.3 * nuclear[nuclear.length >> 1]!, 'a large cell whose nucleus is out of the plane');
});
