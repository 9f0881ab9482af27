// Tests of shared/src/formats/ome-zarr.ts: OME-Zarr pyramids written and read back (levels, metadata, labels).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { inflateSync } from 'node:zlib';
import {
  downsamplePlane,
  type LabelImage,
  pyramidLevels,
  type ReadableStore,
  readOmeZarrImage,
  readOmeZarrInfo,
  readOmeZarrLabels,
  type WritableStore,
  writeOmeZarrImage,
  writeOmeZarrLabels,
} from '@impartial/shared';
import { FileSystemStore, readImageFile } from '@impartial/shared/node';

const W = 10,
  H = 7,
  N = W * H,
  CHUNK = 4;

/** Two channels with distinct, exactly representable values. */
function planes(): Float32Array[] {
  return [0, 1].map((c) =>
    Float32Array.from({ length: N }, (_, i) => c * 1000 + Math.floor(i / W) * 10 + (i % W) * 0.5 - (c ? 0.25 : 0)),
  );
}

function labelImage(): LabelImage & { data: Int32Array } {
  const data = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    const x = i % W,
      y = Math.floor(i / W);
    data[i] = x < 3 ? 0 : y < 3 ? 1 : x < 7 ? 2 : 3 + ((x + y) % 3);
  }
  return { width: W, height: H, data };
}

interface ZArray {
  zarr_format: number;
  shape: number[];
  chunks: number[];
  dtype: string;
  compressor: { id: string };
  fill_value: number;
  order: string;
  dimension_separator: string;
}

async function getJson<T>(store: ReadableStore, key: string): Promise<T> {
  const bytes = await store.get(key as `/${string}`);
  assert.ok(bytes, `${key} missing`);
  return JSON.parse(new TextDecoder().decode(bytes)) as T;
}

/** Reads a whole zarr v2 array straight from its zlib chunks (independent of zarrita). */
async function readRaw(
  store: ReadableStore,
  arrayPath: string,
): Promise<{ shape: number[]; dtype: string; data: number[] }> {
  const meta = await getJson<ZArray>(store, `${arrayPath}/.zarray`);
  const { shape, chunks, dtype } = meta;
  const ctor: (new (b: ArrayBuffer) => ArrayLike<number>) | undefined = (
    { '<f4': Float32Array, '<u2': Uint16Array, '|u1': Uint8Array, '<u4': Uint32Array, '<i4': Int32Array } as Record<
      string,
      new (
        b: ArrayBuffer,
      ) => ArrayLike<number>
    >
  )[dtype];
  assert.ok(ctor, `dtype ${dtype}`);
  const total = shape.reduce((a, b) => a * b, 1);
  const data = new Array<number>(total).fill(meta.fill_value);
  const grid = shape.map((s, d) => Math.ceil(s / chunks[d]!));
  const nChunks = grid.reduce((a, b) => a * b, 1);
  for (let k = 0; k < nChunks; k++) {
    const idx: number[] = [];
    let r = k;
    for (let d = grid.length - 1; d >= 0; d--) {
      idx.unshift(r % grid[d]!);
      r = Math.floor(r / grid[d]!);
    }
    const bytes = await store.get(`${arrayPath}/${idx.join('/')}` as `/${string}`);
    if (!bytes) continue;
    const raw = inflateSync(bytes);
    const values: ArrayLike<number> = new ctor(
      raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength) as ArrayBuffer,
    );
    const chunkSize = chunks.reduce((a, b) => a * b, 1);
    assert.equal(values.length, chunkSize, `chunk ${idx} holds ${values.length} values`);
    for (let j = 0; j < chunkSize; j++) {
      // position inside the chunk (C order) -> global index
      let rem = j,
        global = 0,
        inside = true;
      const pos: number[] = [];
      for (let d = chunks.length - 1; d >= 0; d--) {
        pos.unshift(rem % chunks[d]!);
        rem = Math.floor(rem / chunks[d]!);
      }
      for (let d = 0; d < shape.length; d++) {
        const g = idx[d]! * chunks[d]! + pos[d]!;
        if (g >= shape[d]!) inside = false;
        global = global * shape[d]! + g;
      }
      if (inside) data[global] = values[j]!;
    }
  }
  return { shape, dtype, data };
}

function meanDownsample(p: ArrayLike<number>, w: number, h: number): { data: number[]; w: number; h: number } {
  const w2 = Math.ceil(w / 2),
    h2 = Math.ceil(h / 2);
  const out: number[] = [];
  for (let y = 0; y < h2; y++)
    for (let x = 0; x < w2; x++) {
      const vals: number[] = [];
      for (const [dx, dy] of [
        [0, 0],
        [1, 0],
        [0, 1],
        [1, 1],
      ] as const)
        if (2 * x + dx < w && 2 * y + dy < h) vals.push(p[(2 * y + dy) * w + 2 * x + dx]!);
      out.push(Math.fround(vals.reduce((a, b) => a + b, 0) / vals.length));
    }
  return { data: out, w: w2, h: h2 };
}

async function writeBoth(store: WritableStore): Promise<number> {
  const levels = await writeOmeZarrImage(
    store,
    {
      width: W,
      height: H,
      planes: planes(),
      name: 'tile',
      channels: [{ name: 'DAPI' }, { name: 'CD45', color: 'FF0000' }],
    },
    { chunk: CHUNK },
  );
  await writeOmeZarrLabels(store, 'cells', labelImage(), levels, { chunk: CHUNK });
  return levels;
}

test('pyramidLevels halves until one chunk holds the level', () => {
  assert.equal(pyramidLevels(10, 7, 4), 3); // 10x7 -> 5x4 -> 3x2
  assert.equal(pyramidLevels(256, 256, 256), 1);
  assert.equal(pyramidLevels(257, 10, 256), 2);
  assert.equal(pyramidLevels(1000, 400, 256), 3); // 1000 -> 500 -> 250
});

test('downsamplePlane: mean of 2x2 blocks (partial at the edges), nearest = top-left sample', () => {
  const p = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]); // 5 x 3
  const m = downsamplePlane(p, 5, 3, 'mean');
  assert.deepEqual([m.width, m.height], [3, 2]);
  assert.deepEqual(Array.from(m.data), [4, 6, 7.5, 11.5, 13.5, 15]); // (1+2+6+7)/4, (3+4+8+9)/4, (5+10)/2, ...
  const n = downsamplePlane(Int32Array.from(p), 5, 3, 'nearest');
  assert.deepEqual(Array.from(n.data), [1, 3, 5, 11, 13, 15]);
  assert.ok(n.data instanceof Int32Array);
  const u = downsamplePlane(Uint16Array.from([1, 2, 2, 2]), 2, 2, 'mean');
  assert.deepEqual(Array.from(u.data), [2]); // 1.75 rounded
});

test('OME-Zarr in a Map store: exact values, halving levels, nearest-downsampled labels', async () => {
  const store = new Map<string, Uint8Array>();
  const levels = await writeBoth(store);
  assert.equal(levels, 3);
  // every level's .zarray
  const shapes = [
    [2, 7, 10],
    [2, 4, 5],
    [2, 2, 3],
  ];
  for (let l = 0; l < 3; l++) {
    const z = await getJson<ZArray>(store, `/${l}/.zarray`);
    assert.deepEqual(z.shape, shapes[l], `image level ${l}`);
    assert.deepEqual(z.chunks, [1, CHUNK, CHUNK]);
    assert.equal(z.dtype, '<f4');
    assert.equal(z.zarr_format, 2);
    assert.equal(z.compressor.id, 'zlib');
    assert.equal(z.dimension_separator, '/');
    const lz = await getJson<ZArray>(store, `/labels/cells/${l}/.zarray`);
    assert.deepEqual(lz.shape, shapes[l]!.slice(1), `label level ${l}`);
    assert.equal(lz.dtype, '|u1');
  }
  // level 0 through the reader and straight from the chunks
  const img = await readOmeZarrImage(store);
  assert.deepEqual([img.width, img.height, img.channels], [W, H, 2]);
  assert.deepEqual(img.channelNames, ['DAPI', 'CD45']);
  const want = planes();
  assert.deepEqual(Array.from(img.data), [...want[0]!, ...want[1]!]);
  assert.deepEqual((await readRaw(store, '/0')).data, [...want[0]!, ...want[1]!]);
  // coarser levels: 2x2 means of the previous level
  let prev = want.map((p) => Array.from(p)),
    w = W,
    h = H;
  for (let l = 1; l < 3; l++) {
    const next = prev.map((p) => meanDownsample(p, w, h));
    const lvl = await readOmeZarrImage(store, l);
    assert.deepEqual([lvl.width, lvl.height], [next[0]!.w, next[0]!.h]);
    assert.deepEqual(Array.from(lvl.data), [...next[0]!.data, ...next[1]!.data], `level ${l}`);
    prev = next.map((n) => n.data);
    w = next[0]!.w;
    h = next[0]!.h;
  }
  await assert.rejects(readOmeZarrImage(store, 3), /level 3 does not exist \(the image has 3\)/);
  // labels: level 0 exact, coarser levels the top-left sample (no new values)
  const labels = labelImage();
  const back = await readOmeZarrLabels(store, 'cells');
  assert.deepEqual([back.width, back.height], [W, H]);
  assert.deepEqual(Array.from(back.data), Array.from(labels.data));
  let cur = Array.from(labels.data),
    lw = W,
    lh = H;
  for (let l = 1; l < 3; l++) {
    const raw = await readRaw(store, `/labels/cells/${l}`);
    const nw = Math.ceil(lw / 2),
      nh = Math.ceil(lh / 2);
    const expected: number[] = [];
    for (let y = 0; y < nh; y++) for (let x = 0; x < nw; x++) expected.push(cur[2 * y * lw + 2 * x]!);
    assert.deepEqual(raw.data, expected, `label level ${l}`);
    const original = new Set(labels.data);
    for (const v of raw.data) assert.ok(original.has(v), `label level ${l} invented value ${v}`);
    cur = expected;
    lw = nw;
    lh = nh;
  }
});

test('OME-Zarr metadata: NGFF 0.4 multiscales, c/y/x axes, omero channels, image-label source, labels', async () => {
  const store = new Map<string, Uint8Array>();
  await writeBoth(store);
  assert.deepEqual(await getJson(store, '/.zgroup'), { zarr_format: 2 });
  const attrs = await getJson<{
    multiscales: Array<{
      version: string;
      name: string;
      axes: Array<{ name: string; type: string }>;
      datasets: Array<{ path: string; coordinateTransformations: Array<{ type: string; scale: number[] }> }>;
    }>;
    omero: { channels: Array<{ label: string; color: string; window: { min: number; max: number } }> };
  }>(store, '/.zattrs');
  const ms = attrs.multiscales[0]!;
  assert.equal(attrs.multiscales.length, 1);
  assert.equal(ms.version, '0.4');
  assert.equal(ms.name, 'tile');
  assert.deepEqual(
    ms.axes.map((a) => a.name),
    ['c', 'y', 'x'],
  );
  assert.deepEqual(
    ms.axes.map((a) => a.type),
    ['channel', 'space', 'space'],
  );
  assert.deepEqual(
    ms.datasets.map((d) => d.path),
    ['0', '1', '2'],
  );
  assert.deepEqual(
    ms.datasets.map((d) => d.coordinateTransformations[0]!.scale),
    [
      [1, 1, 1],
      [1, 2, 2],
      [1, 4, 4],
    ],
  );
  assert.deepEqual(
    attrs.omero.channels.map((c) => c.label),
    ['DAPI', 'CD45'],
  );
  assert.equal(attrs.omero.channels[1]!.color, 'FF0000');
  const p = planes();
  assert.deepEqual(
    [attrs.omero.channels[0]!.window.min, attrs.omero.channels[0]!.window.max],
    [Math.min(...p[0]!), Math.max(...p[0]!)],
  );

  assert.deepEqual(await getJson(store, '/labels/.zattrs'), { labels: ['cells'] });
  const la = await getJson<{
    multiscales: Array<{ version: string; axes: Array<{ name: string }>; datasets: Array<{ path: string }> }>;
    'image-label': { version: string; source: { image: string } };
  }>(store, '/labels/cells/.zattrs');
  assert.equal(la.multiscales[0]!.version, '0.4');
  assert.deepEqual(
    la.multiscales[0]!.axes.map((a) => a.name),
    ['y', 'x'],
  );
  assert.deepEqual(
    la.multiscales[0]!.datasets.map((d) => d.path),
    ['0', '1', '2'],
  );
  assert.equal(la['image-label'].version, '0.4');
  assert.deepEqual(la['image-label'].source, { image: '../../' });

  // a second label set is added to the list; rewriting one does not duplicate it
  await writeOmeZarrLabels(store, 'nuclei', labelImage(), 3, { chunk: CHUNK });
  await writeOmeZarrLabels(store, 'cells', labelImage(), 3, { chunk: CHUNK });
  assert.deepEqual(await getJson(store, '/labels/.zattrs'), { labels: ['cells', 'nuclei'] });
  const info = await readOmeZarrInfo(store);
  assert.deepEqual(info, {
    name: 'tile',
    levels: ['0', '1', '2'],
    axes: ['c', 'y', 'x'],
    channelNames: ['DAPI', 'CD45'],
    labels: ['cells', 'nuclei'],
  });
  await assert.rejects(readOmeZarrInfo(new Map()), /not an OME-Zarr image: no multiscales/);
});

test('label dtype grows with the largest id: uint8, uint16, uint32', async () => {
  for (const [max, dtype] of [
    [255, '|u1'],
    [256, '<u2'],
    [65535, '<u2'],
    [65536, '<u4'],
    [3_000_000, '<u4'],
  ] as const) {
    const store = new Map<string, Uint8Array>();
    const labels = labelImage();
    labels.data[N - 1] = max;
    await writeOmeZarrLabels(store, 'l', labels, 1, { chunk: CHUNK });
    assert.equal((await getJson<ZArray>(store, '/labels/l/0/.zarray')).dtype, dtype, `max ${max}`);
    assert.deepEqual(Array.from((await readOmeZarrLabels(store, 'l')).data), Array.from(labels.data), `max ${max}`);
  }
});

test('OME-Zarr in a folder through FileSystemStore, read back by path', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'impartial-zarr-'));
  try {
    const root = path.join(dir, 'tile.ome.zarr');
    const levels = await writeBoth(new FileSystemStore(root));
    assert.equal(levels, 3);
    for (const f of [
      '.zgroup',
      '.zattrs',
      '0/.zarray',
      '2/.zarray',
      'labels/.zattrs',
      'labels/cells/.zattrs',
      'labels/cells/0/.zarray',
      '0/1/1/2',
      'labels/cells/0/1/2',
    ]) {
      assert.ok(existsSync(path.join(root, f)), `${f} missing on disk`);
    }
    const attrs = JSON.parse(readFileSync(path.join(root, '.zattrs'), 'utf8')) as {
      multiscales: Array<{ version: string; axes: Array<{ name: string }> }>;
    };
    assert.equal(attrs.multiscales[0]!.version, '0.4');
    assert.deepEqual(
      attrs.multiscales[0]!.axes.map((a) => a.name),
      ['c', 'y', 'x'],
    );
    assert.deepEqual((JSON.parse(readFileSync(path.join(root, '1', '.zarray'), 'utf8')) as ZArray).shape, [2, 4, 5]);

    const store = new FileSystemStore(root);
    const want = planes();
    const img = await readOmeZarrImage(store);
    assert.deepEqual(Array.from(img.data), [...want[0]!, ...want[1]!]);
    assert.deepEqual(Array.from((await readOmeZarrLabels(store, 'cells')).data), Array.from(labelImage().data));
    assert.deepEqual((await readOmeZarrInfo(store)).labels, ['cells']);
    const viaPath = await readImageFile(root);
    assert.deepEqual(Array.from(viaPath.data), [...want[0]!, ...want[1]!]);
    assert.deepEqual(viaPath.channelNames, ['DAPI', 'CD45']);
    await assert.rejects(readImageFile(dir), /not a readable OME-Zarr image/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
