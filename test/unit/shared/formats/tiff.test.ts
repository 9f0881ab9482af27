// Tests of shared/src/formats/tiff.ts: reading TIFF, OME-TIFF and ImageJ hyperstacks (written by tiff-write.ts).
import assert from 'node:assert/strict';
import test from 'node:test';
import {
  imagejChannelLayout,
  omeChannelLayout,
  readLabelTiff,
  readTiff,
  TiffFormatError,
  type TiffPixels,
  toArrayBuffer,
  writeTiff,
} from '@impartial/shared';
import { readImageFile } from '@impartial/shared/node';
import { dataFile, skipUnlessExists } from '../../../helpers/paths.js';
import { channel, H, N, plane, W } from '../../../helpers/tiff-pages.js';

test('ImageJ hyperstack, big-endian float32, 3 channels: exact values in page order', async () => {
  const pages = [0, 1, 2].map((c) => plane(Float32Array, (i) => (c + 1) * 0.1 + i * 1.337e-3 - (c === 1 ? 5.5 : 0)));
  const bytes = writeTiff(
    pages.map((data, c) => ({
      width: W,
      height: H,
      data,
      ...(c === 0 ? { description: 'ImageJ=1.53t\nimages=3\nchannels=3\nhyperstack=true\n' } : {}),
    })),
    false,
  );
  assert.equal(String.fromCharCode(bytes[0]!, bytes[1]!), 'MM');
  const warnings: string[] = [];
  const img = await readTiff(toArrayBuffer(bytes), 'hs.tif', (m) => warnings.push(m));
  assert.deepEqual([img.width, img.height, img.channels], [W, H, 3]);
  assert.equal(img.data.length, 3 * N);
  for (let c = 0; c < 3; c++) assert.deepEqual(channel(img, c), Array.from(pages[c]!), `channel ${c}`);
  assert.equal(img.channelNames, undefined);
  assert.deepEqual(warnings, []);
});

test('ImageJ hyperstack with 2 slices: the channels of the first slice, with a warning', async () => {
  const pages = Array.from({ length: 6 }, (_, k) => plane(Float32Array, (i) => 100 * k + i));
  const bytes = writeTiff(
    pages.map((data, k) => ({
      width: W,
      height: H,
      data,
      ...(k === 0 ? { description: 'ImageJ=1.53t\nimages=6\nchannels=3\nslices=2\nhyperstack=true\n' } : {}),
    })),
    false,
  );
  const warnings: string[] = [];
  const img = await readTiff(toArrayBuffer(bytes), 'z.tif', (m) => warnings.push(m));
  assert.equal(img.channels, 3);
  for (let c = 0; c < 3; c++) assert.deepEqual(channel(img, c), Array.from(pages[c]!));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /z\.tif: hyperstack with slices or frames/);
});

const OME_XML = `<?xml version="1.0" encoding="UTF-8"?>
<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" Creator="test"><Image ID="Image:0" Name="t">
<Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint16" SizeX="${W}" SizeY="${H}"
 SizeZ="2" SizeC="2" SizeT="1" BigEndian="false">
<Channel ID="Channel:0:0" Name="DAPI" SamplesPerPixel="1"/><Channel ID="Channel:0:1" Name="CD45" SamplesPerPixel="1"/>
<TiffData IFD="0" PlaneCount="4"/></Pixels></Image></OME>`;

test('OME-TIFF, little-endian uint16, XYZCT with SizeZ=2: channel 1 is page 2; channel names read back', async () => {
  const pages = Array.from({ length: 4 }, (_, k) => plane(Uint16Array, (i) => 1000 * k + 3 * i + 1));
  const bytes = writeTiff(
    pages.map((data, k) => ({ width: W, height: H, data, ...(k === 0 ? { description: OME_XML } : {}) })),
    true,
  );
  assert.equal(String.fromCharCode(bytes[0]!, bytes[1]!), 'II');
  const img = await readTiff(toArrayBuffer(bytes), 'ome.tif');
  assert.deepEqual([img.width, img.height, img.channels], [W, H, 2]);
  assert.deepEqual(channel(img, 0), Array.from(pages[0]!));
  assert.deepEqual(channel(img, 1), Array.from(pages[2]!));
  assert.deepEqual(img.channelNames, ['DAPI', 'CD45']);
});

test('omeChannelLayout / imagejChannelLayout: page of (c, z=0, t=0) for each dimension order', () => {
  const xml = (order: string, c: number, z: number, t: number, prefix = '') => {
    const channels = Array.from({ length: c }, (_, i) => `<${prefix}Channel ID="C${i}" Name="ch${i}"/>`).join('');
    const sizes = `SizeC="${c}" SizeZ="${z}" SizeT="${t}"`;
    return `<${prefix}Pixels DimensionOrder="${order}" ${sizes}>${channels}</${prefix}Pixels>`;
  };
  assert.deepEqual(omeChannelLayout(xml('XYCZT', 3, 4, 5))!.pages, [0, 1, 2]);
  assert.deepEqual(omeChannelLayout(xml('XYZCT', 3, 4, 5))!.pages, [0, 4, 8]);
  assert.deepEqual(omeChannelLayout(xml('XYZTC', 3, 4, 5))!.pages, [0, 20, 40]);
  assert.deepEqual(omeChannelLayout(xml('XYTCZ', 2, 4, 5))!.pages, [0, 5]);
  const prefixed = omeChannelLayout(xml('XYCZT', 2, 1, 1, 'ome:'))!;
  assert.deepEqual(prefixed.pages, [0, 1]);
  assert.deepEqual(prefixed.names, ['ch0', 'ch1']);
  assert.equal(omeChannelLayout('no xml here'), null);
  assert.deepEqual(imagejChannelLayout('ImageJ=1.54f\nimages=8\nchannels=4\nslices=2\n')!.pages, [0, 1, 2, 3]);
  assert.deepEqual(imagejChannelLayout('ImageJ=1.54f\nimages=5\nslices=5\n')!.pages, [0]);
  assert.equal(imagejChannelLayout('something else'), null);
});

test('plain 2-page uint8 TIFF: one channel per page', async () => {
  const pages = [plane(Uint8Array, (i) => i * 7), plane(Uint8Array, (i) => 255 - i)];
  const img = await readTiff(
    toArrayBuffer(writeTiff(pages.map((data) => ({ width: W, height: H, data })))),
    'plain.tif',
  );
  assert.deepEqual([img.width, img.height, img.channels], [W, H, 2]);
  assert.deepEqual(channel(img, 0), Array.from(pages[0]!));
  assert.deepEqual(channel(img, 1), Array.from(pages[1]!));
});

test('both byte orders and uint8 / uint16 / float32 pages round-trip exactly', async () => {
  const makers: Array<[string, () => TiffPixels]> = [
    ['uint8', () => plane(Uint8Array, (i) => (i * 37) % 256)],
    ['uint16', () => plane(Uint16Array, (i) => 65535 - i * 1111)],
    ['float32', () => plane(Float32Array, (i) => Math.fround(-1e5 + i * 12345.678))],
  ];
  for (const little of [true, false]) {
    for (const [name, make] of makers) {
      const data = make();
      const img = await readTiff(toArrayBuffer(writeTiff([{ width: W, height: H, data }], little)), `${name}.tif`);
      assert.equal(img.channels, 1, `${name} ${little ? 'II' : 'MM'}`);
      assert.deepEqual(channel(img, 0), Array.from(data), `${name} ${little ? 'II' : 'MM'}`);
    }
  }
});

test('readLabelTiff: integer pages become labels; fractions and several channels are refused', async () => {
  const labels = plane(Uint16Array, (i) => (i % 3 === 0 ? 0 : 300 + (i % 4)));
  const got = await readLabelTiff(toArrayBuffer(writeTiff([{ width: W, height: H, data: labels }], false)), 'l.tif');
  assert.deepEqual(Array.from(got.data), Array.from(labels));
  await assert.rejects(
    readLabelTiff(
      toArrayBuffer(writeTiff([{ width: W, height: H, data: plane(Float32Array, (i) => i / 2) }])),
      'f.tif',
    ),
    (e: unknown) =>
      e instanceof TiffFormatError && /f\.tif: label images hold non-negative integers; found 0\.5/.test(e.message),
  );
  await assert.rejects(
    readLabelTiff(
      toArrayBuffer(writeTiff([0, 1].map(() => ({ width: W, height: H, data: plane(Uint8Array, () => 1) })))),
      'two.tif',
    ),
    (e: unknown) =>
      e instanceof TiffFormatError && /two\.tif: a label image must have 1 channel, it has 2/.test(e.message),
  );
});

test('corrupt TIFFs give a TiffFormatError naming the file', async () => {
  const random = new Uint8Array(512).map((_, i) => (i * 131 + 7) & 255);
  await assert.rejects(
    readTiff(toArrayBuffer(random), 'random.tif'),
    (e: unknown) => e instanceof TiffFormatError && /^random\.tif: /.test(e.message),
  );
  const good = writeTiff(
    [0, 1].map((k) => ({ width: 16, height: 16, data: new Float32Array(256).fill(k + 1) })),
    true,
  );
  for (const cut of [4, 40, good.length - 600, good.length - 100]) {
    await assert.rejects(
      readTiff(toArrayBuffer(good.subarray(0, cut)), 'cut.tif'),
      (e: unknown) => e instanceof TiffFormatError && /^cut\.tif: /.test(e.message),
      `truncated to ${cut} of ${good.length} bytes`,
    );
  }
  // OME metadata naming more pages than the file has
  const lying = writeTiff([{ width: W, height: H, data: plane(Uint16Array, (i) => i), description: OME_XML }]);
  await assert.rejects(
    readTiff(toArrayBuffer(lying), 'lying.ome.tif'),
    /lying\.ome\.tif: metadata names 2 channels but the file has 1 pages/,
  );
});

const vectra = dataFile('vectra-2ch', 'image0.tif');

test('the Vectra image0.tif: 400 x 400, 2 float channels with real, different content', {
  skip: skipUnlessExists(vectra),
}, async () => {
  const img = await readImageFile(vectra);
  assert.deepEqual([img.width, img.height, img.channels], [400, 400, 2]);
  assert.ok(img.data instanceof Float32Array);
  assert.equal(img.data.length, 2 * 400 * 400);
  const n = 400 * 400;
  const stats = [0, 1].map((c) => {
    let min = Infinity,
      max = -Infinity,
      sum = 0;
    for (let i = c * n; i < (c + 1) * n; i++) {
      const v = img.data[i]!;
      assert.ok(Number.isFinite(v), `non-finite value at ${i}`);
      min = Math.min(min, v);
      max = Math.max(max, v);
      sum += v;
    }
    return { min, max, mean: sum / n };
  });
  for (const s of stats) assert.ok(s.max > s.min, `constant channel ${JSON.stringify(s)}`);
  let differ = 0;
  for (let i = 0; i < n; i++) if (img.data[i] !== img.data[n + i]) differ++;
  assert.ok(differ > n / 2, `channels differ at only ${differ} pixels`);
});
