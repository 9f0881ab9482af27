// Tests of shared/src/formats/imagej-roi.ts: ImageJ .roi files and ROI zips.
import assert from 'node:assert/strict';
import test from 'node:test';
import {
  decodeRoi,
  encodeRoi,
  LimitError,
  polygonsToLabels,
  type Roi,
  RoiFormatError,
  RoiType,
  readRoiZip,
  roisToPolygons,
  writeRoiZip,
} from '@impartial/shared';
import { readRoiZipFile } from '@impartial/shared/node';
import { zipSync } from 'fflate';
import { dataFile, skipUnlessExists } from '../../../helpers/paths.js';

/** A hand-made .roi file: 64-byte big-endian header, then int16 x offsets and int16 y offsets. */
function roiBytes(o: {
  type: number;
  top: number;
  left: number;
  bottom: number;
  right: number;
  xs?: number[];
  ys?: number[];
  version?: number;
}): Uint8Array {
  const xs = o.xs ?? [],
    ys = o.ys ?? [];
  const n = xs.length;
  const bytes = new Uint8Array(64 + 4 * n);
  const v = new DataView(bytes.buffer);
  bytes.set([0x49, 0x6f, 0x75, 0x74]); // "Iout"
  v.setInt16(4, o.version ?? 217);
  bytes[6] = o.type;
  v.setInt16(8, o.top);
  v.setInt16(10, o.left);
  v.setInt16(12, o.bottom);
  v.setInt16(14, o.right);
  v.setUint16(16, n);
  xs.forEach((x, i) => {
    v.setInt16(64 + 2 * i, x - o.left);
  });
  ys.forEach((y, i) => {
    v.setInt16(64 + 2 * n + 2 * i, y - o.top);
  });
  return bytes;
}

test('encodeRoi / decodeRoi round trip: name, type, points, position', () => {
  const traced: Roi = {
    name: '0007-0120-0033',
    type: 'traced',
    points: [
      [30, 110],
      [37, 110],
      [37, 112],
      [35, 112],
      [35, 130],
      [30, 130],
    ],
    closed: true,
    position: { c: 2, z: 1, t: 3 },
  };
  const a = decodeRoi(encodeRoi(traced), 'whatever.roi')!;
  assert.deepEqual(a, traced);
  const polygon: Roi = {
    name: 'cell é',
    type: 'polygon',
    points: [
      [-4, 5],
      [10, 2],
      [7, 19],
    ],
    closed: true,
  };
  const b = decodeRoi(encodeRoi(polygon))!;
  assert.equal(b.name, 'cell é');
  assert.equal(b.type, 'polygon');
  assert.deepEqual(b.points, polygon.points);
  assert.equal(b.closed, true);
  assert.deepEqual(b.position, { c: 0, z: 0, t: 0 });
  // the header holds the bounding box and point count per the ImageJ format
  const bytes = encodeRoi(polygon);
  const v = new DataView(bytes.buffer, bytes.byteOffset);
  assert.equal(String.fromCharCode(...bytes.subarray(0, 4)), 'Iout');
  assert.equal(bytes[6], RoiType.polygon);
  assert.deepEqual(
    [v.getInt16(8), v.getInt16(10), v.getInt16(12), v.getInt16(14), v.getUint16(16)],
    [2, -4, 19, 10, 3],
  );
  assert.deepEqual([v.getInt16(64), v.getInt16(66), v.getInt16(68)], [0, 14, 11]); // x - left
  assert.deepEqual([v.getInt16(70), v.getInt16(72), v.getInt16(74)], [3, 0, 17]); // y - top
});

test('encodeRoi writes rect and oval ROIs as polygons through their vertices and rounds coordinates', () => {
  const r = decodeRoi(
    encodeRoi({
      name: 'r',
      type: 'rect',
      points: [
        [1.4, 2.6],
        [5, 3],
        [5, 8],
        [1, 8],
      ],
      closed: true,
    }),
  )!;
  assert.equal(r.type, 'polygon');
  assert.deepEqual(r.points, [
    [1, 3],
    [5, 3],
    [5, 8],
    [1, 8],
  ]);
  assert.throws(
    () =>
      encodeRoi({
        name: 'big',
        type: 'polygon',
        points: [
          [0, 0],
          [40000, 0],
          [0, 5],
        ],
        closed: true,
      }),
    RoiFormatError,
  );
});

test('decodeRoi of a hand-made rect ROI gives its 4 corners and takes the name from the file name', () => {
  const roi = decodeRoi(roiBytes({ type: 1, top: 5, left: 3, bottom: 15, right: 13 }), 'r1.roi')!;
  assert.equal(roi.name, 'r1');
  assert.equal(roi.type, 'rect');
  assert.equal(roi.closed, true);
  assert.deepEqual(roi.points, [
    [3, 5],
    [13, 5],
    [13, 15],
    [3, 15],
  ]);
  assert.equal(roi.position, undefined);
  const labels = polygonsToLabels(roisToPolygons([roi]), 20, 20);
  let n = 0;
  for (const v of labels.data) n += v;
  assert.equal(n, 100);
});

test('decodeRoi of a hand-made oval ROI gives a polygon on the inscribed ellipse', () => {
  const roi = decodeRoi(roiBytes({ type: 2, top: 20, left: 10, bottom: 26, right: 18 }), 'o.roi')!;
  assert.equal(roi.type, 'oval');
  assert.equal(roi.closed, true);
  assert.equal(roi.points.length, 22); // max(12, ceil(pi * (8 + 6) / 2))
  for (const [x, y] of roi.points) {
    assert.ok(Math.abs(((x - 14) / 4) ** 2 + ((y - 23) / 3) ** 2 - 1) < 1e-9, `(${x},${y}) is off the ellipse`);
    assert.ok(x >= 10 && x <= 18 && y >= 20 && y <= 26);
  }
  const xs = roi.points.map((p) => p[0]),
    ys = roi.points.map((p) => p[1]);
  // 22 points: angles 0 and pi are vertices (x extremes exact); pi/2 falls between two vertices
  assert.deepEqual([Math.min(...xs), Math.max(...xs)], [10, 18]);
  assert.ok(
    Math.abs(Math.min(...ys) - 20) < 0.1 && Math.abs(Math.max(...ys) - 26) < 0.1,
    `y range ${Math.min(...ys)}..${Math.max(...ys)}`,
  );
  const labels = polygonsToLabels([roi.points], 30, 30);
  let area = 0;
  for (const v of labels.data) area += v;
  assert.ok(Math.abs(area - Math.PI * 4 * 3) <= 6, `oval area ${area}, ellipse ${Math.PI * 12}`);
});

test('decodeRoi of hand-made polygon, traced, freeline and point ROIs (coordinates relative to left/top)', () => {
  const bytes = roiBytes({
    type: 0,
    top: 100,
    left: 200,
    bottom: 140,
    right: 260,
    xs: [200, 260, 230],
    ys: [100, 100, 140],
  });
  const p = decodeRoi(bytes, 'tri.roi')!;
  assert.deepEqual(p, {
    name: 'tri',
    type: 'polygon',
    points: [
      [200, 100],
      [260, 100],
      [230, 140],
    ],
    closed: true,
  });
  const t = decodeRoi(
    roiBytes({ type: 8, top: 1, left: 1, bottom: 3, right: 3, xs: [1, 3, 3, 1], ys: [1, 1, 3, 3] }),
    't.roi',
  )!;
  assert.equal(t.type, 'traced');
  assert.equal(t.closed, true);
  const f = decodeRoi(
    roiBytes({ type: 4, top: 0, left: 0, bottom: 5, right: 5, xs: [0, 5, 2], ys: [0, 1, 5] }),
    'f.roi',
  )!;
  assert.equal(f.type, 'freeline');
  assert.equal(f.closed, false);
  assert.deepEqual(roisToPolygons([p, t, f]), [p.points, t.points]);
  const pt = decodeRoi(roiBytes({ type: 10, top: 7, left: 4, bottom: 8, right: 5, xs: [4], ys: [7] }), 'pt.roi')!;
  assert.equal(pt.type, 'point');
  assert.deepEqual(pt.points, [[4, 7]]);
});

test('decodeRoi reads sub-pixel coordinates (version >= 222, options bit 128)', () => {
  const n = 3;
  const bytes = new Uint8Array(64 + 12 * n);
  const v = new DataView(bytes.buffer);
  bytes.set([0x49, 0x6f, 0x75, 0x74]);
  v.setInt16(4, 227);
  bytes[6] = RoiType.polygon;
  v.setInt16(8, 1);
  v.setInt16(10, 2);
  v.setInt16(12, 9);
  v.setInt16(14, 9);
  v.setUint16(16, n);
  v.setInt16(50, 128);
  const xs = [2.25, 8.5, 5.75],
    ys = [1.5, 1.5, 8.25];
  xs.forEach((x, i) => {
    v.setInt16(64 + 2 * i, Math.floor(x) - 2);
    v.setFloat32(64 + 4 * n + 4 * i, x);
  });
  ys.forEach((y, i) => {
    v.setInt16(64 + 2 * n + 2 * i, Math.floor(y) - 1);
    v.setFloat32(64 + 8 * n + 4 * i, y);
  });
  assert.deepEqual(decodeRoi(bytes, 's.roi')!.points, [
    [2.25, 1.5],
    [8.5, 1.5],
    [5.75, 8.25],
  ]);
});

test('decodeRoi rejects bytes without the "Iout" header, unknown types and truncated point lists', () => {
  assert.throws(
    () =>
      decodeRoi(
        new TextEncoder().encode('hello world, this is not a roi file at all, just some text bytes!!'),
        'x.roi',
      ),
    (e: unknown) => e instanceof RoiFormatError && /x\.roi: not an ImageJ ROI/.test(e.message),
  );
  assert.throws(() => decodeRoi(new Uint8Array(10), 'short.roi'), RoiFormatError);
  assert.throws(
    () => decodeRoi(roiBytes({ type: 42, top: 0, left: 0, bottom: 1, right: 1 }), 'u.roi'),
    /u\.roi: unknown ROI type 42/,
  );
  const truncated = roiBytes({
    type: 0,
    top: 0,
    left: 0,
    bottom: 9,
    right: 9,
    xs: [0, 9, 4, 5],
    ys: [0, 0, 9, 5],
  }).subarray(0, 70);
  assert.throws(
    () => decodeRoi(truncated, 'cut.roi'),
    (e: unknown) => e instanceof RoiFormatError && /cut: ROI with 4 points is truncated/.test(e.message),
  );
});

test('writeRoiZip / readRoiZip round trip keeps order and makes duplicate names unique', () => {
  const rois: Roi[] = [
    {
      name: 'a',
      type: 'traced',
      points: [
        [0, 0],
        [4, 0],
        [4, 4],
        [0, 4],
      ],
      closed: true,
    },
    {
      name: 'a',
      type: 'polygon',
      points: [
        [10, 10],
        [14, 10],
        [12, 15],
      ],
      closed: true,
      position: { c: 1, z: 2, t: 1 },
    },
    {
      name: 'b',
      type: 'traced',
      points: [
        [20, 0],
        [22, 0],
        [22, 3],
        [20, 3],
      ],
      closed: true,
    },
    {
      name: 'a',
      type: 'traced',
      points: [
        [30, 30],
        [31, 30],
        [31, 31],
        [30, 31],
      ],
      closed: true,
    },
  ];
  const back = readRoiZip(writeRoiZip(rois));
  assert.deepEqual(
    back.map((r) => r.name),
    ['a', 'a-2', 'b', 'a-3'],
  );
  assert.deepEqual(
    back.map((r) => r.type),
    ['traced', 'polygon', 'traced', 'traced'],
  );
  back.forEach((r, i) => {
    assert.deepEqual(r.points, rois[i]!.points);
  });
  assert.deepEqual(back[1]!.position, { c: 1, z: 2, t: 1 });
});

test('writeRoiZip names unnamed ROIs "roi", "roi-2", ...', () => {
  const square: Array<[number, number]> = [
    [0, 0],
    [2, 0],
    [2, 2],
    [0, 2],
  ];
  const back = readRoiZip(
    writeRoiZip([
      { name: '', type: 'traced', points: square, closed: true },
      { name: '', type: 'traced', points: square, closed: true },
    ]),
  );
  assert.deepEqual(
    back.map((r) => r.name),
    ['roi', 'roi-2'],
  );
});

test('readRoiZip: a corrupt zip and a non-ROI .roi entry give RoiFormatError; other entries are skipped', () => {
  const random = new Uint8Array(200).map((_, i) => (i * 73 + 11) & 255);
  assert.throws(
    () => readRoiZip(random),
    (e: unknown) => e instanceof RoiFormatError && /not a readable zip file/.test(e.message),
  );
  const good = encodeRoi({
    name: 'ok',
    type: 'traced',
    points: [
      [0, 0],
      [3, 0],
      [3, 3],
      [0, 3],
    ],
    closed: true,
  });
  const zipped = writeRoiZip([
    {
      name: 'ok',
      type: 'traced',
      points: [
        [0, 0],
        [3, 0],
        [3, 3],
        [0, 3],
      ],
      closed: true,
    },
  ]);
  assert.throws(() => readRoiZip(zipped.subarray(0, zipped.length - 30)), RoiFormatError);
  const bad = zipSync({
    'ok.roi': good,
    'notes.txt': new TextEncoder().encode('a text file'),
    'folder/bad.roi': new TextEncoder().encode('P5 this is a pgm, not a ROI, padded to be longer than the header....'),
  });
  assert.throws(
    () => readRoiZip(bad),
    (e: unknown) => e instanceof RoiFormatError && /bad\.roi: not an ImageJ ROI \(no "Iout" header\)/.test(e.message),
  );
  const fine = readRoiZip(zipSync({ 'notes.txt': new TextEncoder().encode('a text file'), 'sub/ok.roi': good }));
  assert.deepEqual(
    fine.map((r) => r.name),
    ['ok'],
  );
});

test('readRoiZip refuses a set over its caps with a LimitError; other entries are never inflated', () => {
  const square = encodeRoi({
    name: 'sq',
    type: 'traced',
    points: [
      [0, 0],
      [2, 0],
      [2, 2],
      [0, 2],
    ],
    closed: true,
  });
  const zeros = new Uint8Array(4_000_000); // deflates to a few KB
  assert.throws(
    () => readRoiZip(zipSync({ 'ok.roi': square, 'cell.roi': zeros }, { level: 9 })),
    (e: unknown) => e instanceof LimitError && /cell\.roi is 4000000 bytes; at most 1048576 an entry/.test(e.message),
  );
  const withNotes = readRoiZip(zipSync({ 'ok.roi': square, 'notes.txt': zeros }, { level: 9 }));
  assert.deepEqual(
    withNotes.map((r) => r.name),
    ['sq'],
  );
  const many: Record<string, Uint8Array> = {};
  for (let i = 0; i <= 10_000; i++) many[`${i}.roi`] = square;
  assert.throws(
    () => readRoiZip(zipSync(many, { level: 0 })),
    (e: unknown) => e instanceof LimitError && /10000\.roi is one entry too many \(at most 10000\)/.test(e.message),
  );
});

const realZip = dataFile('vectra-2ch', 'labels', 'image0.zip');

test('the Vectra image0 ROI set: 259 traced ROIs rasterising to 259 distinct labels', {
  skip: skipUnlessExists(realZip),
}, async () => {
  const rois = await readRoiZipFile(realZip);
  assert.equal(rois.length, 259);
  for (const r of rois) {
    assert.equal(r.type, 'traced');
    assert.equal(r.closed, true);
    assert.ok(r.points.length >= 4);
    for (const [x, y] of r.points)
      assert.ok(x >= 0 && x <= 400 && y >= 0 && y <= 400, `${r.name}: (${x},${y}) outside the 400 x 400 tile`);
  }
  const labels = polygonsToLabels(roisToPolygons(rois), 400, 400);
  const ids = new Set<number>();
  for (const v of labels.data) if (v > 0) ids.add(v);
  assert.equal(ids.size, 259);
  assert.equal(Math.max(...ids), 259);
  // and back through our own writer
  const again = readRoiZip(writeRoiZip(rois));
  assert.equal(again.length, 259);
  assert.deepEqual(
    again.map((r) => r.points),
    rois.map((r) => r.points),
  );
});
