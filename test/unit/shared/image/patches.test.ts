// Tests of shared/src/image/patches.ts: training patches and blind spots (PatchSampler).
import assert from 'node:assert/strict';
import test from 'node:test';
import {
  type LabelImage,
  type MultiChannelImage,
  PatchSampler,
  SCRIBBLE_BACKGROUND,
  SCRIBBLE_FOREGROUND,
} from '@impartial/shared';

/** Pixel (x, y) of channel c holds c * 100000 + y * width + x: every value names its source pixel. */
function codedImage(width: number, height: number, channels: number): MultiChannelImage {
  const n = width * height;
  const data = new Float32Array(channels * n);
  for (let c = 0; c < channels; c++) for (let i = 0; i < n; i++) data[c * n + i] = c * 100000 + i;
  return { width, height, channels, data };
}

function emptyScribbles(width: number, height: number): LabelImage & { data: Int32Array } {
  return { width, height, data: new Int32Array(width * height) };
}

/** Channel c of patch b as a P x P array (row-major). */
function patchPlane(arr: Float32Array, b: number, P: number, C: number, c: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < P * P; i++) out.push(arr[(b * P * P + i) * C + c]!);
  return out;
}

/** The 8 rotations/flips of a P x P plane. */
function dihedral(plane: readonly number[], P: number): number[][] {
  const out: number[][] = [];
  for (const flip of [false, true]) {
    for (let rot = 0; rot < 4; rot++) {
      const t: number[] = [];
      for (let y = 0; y < P; y++)
        for (let x = 0; x < P; x++) {
          let u = flip ? P - 1 - x : x,
            v = y;
          for (let k = 0; k < rot; k++) [u, v] = [P - 1 - v, u];
          t.push(plane[v * P + u]!);
        }
      out.push(t);
    }
  }
  return out;
}

test('batch shapes are (N, P, P, C) for images and (N, P, P) for scribbles', () => {
  const s = new PatchSampler([codedImage(40, 30, 3)], [emptyScribbles(40, 30)], { patch: 16, seed: 1 });
  assert.equal(s.channels, 3);
  assert.equal(s.hasScribbles, false);
  const b = s.batch(5);
  assert.deepEqual([b.size, b.patch, b.channels], [5, 16, 3]);
  for (const a of [b.input, b.target, b.blindMask]) assert.equal(a.length, 5 * 16 * 16 * 3);
  for (const a of [b.foreground, b.background]) assert.equal(a.length, 5 * 16 * 16);
});

test('PatchSampler rejects mismatched inputs', () => {
  assert.throws(() => new PatchSampler([], []), /at least one image/);
  assert.throws(() => new PatchSampler([codedImage(8, 8, 2)], []), /1 images but 0 scribble rasters/);
  assert.throws(
    () => new PatchSampler([codedImage(8, 8, 2), codedImage(8, 8, 3)], [emptyScribbles(8, 8), emptyScribbles(8, 8)]),
    /image 1 has 3 channels, image 0 has 2/,
  );
  assert.throws(
    () => new PatchSampler([codedImage(8, 8, 2)], [emptyScribbles(8, 9)]),
    /scribbles 0 are 8x9 but the image is 8x8/,
  );
});

test('the same seed gives the same batches; another seed gives others', () => {
  const make = (seed: number) =>
    new PatchSampler([codedImage(48, 48, 2)], [emptyScribbles(48, 48)], { patch: 16, jitter: 4, seed });
  const a = make(5),
    b = make(5),
    c = make(6);
  for (let k = 0; k < 2; k++) {
    const x = a.batch(3),
      y = b.batch(3),
      z = c.batch(3);
    assert.deepEqual(x.input, y.input);
    assert.deepEqual(x.target, y.target);
    assert.deepEqual(x.blindMask, y.blindMask);
    assert.notDeepEqual(x.target, z.target);
  }
});

test('targets are rigid (rotated/flipped) windows of the image, channels aligned', () => {
  const W = 64,
    P = 16,
    C = 2;
  const s = new PatchSampler([codedImage(W, W, C)], [emptyScribbles(W, W)], { patch: P, seed: 9 });
  const b = s.batch(6);
  for (let k = 0; k < 6; k++) {
    const t0 = patchPlane(b.target, k, P, C, 0),
      t1 = patchPlane(b.target, k, P, C, 1);
    for (let i = 0; i < P * P; i++) assert.equal(t1[i], t0[i]! + 100000, 'channels come from the same pixel');
    const xy = t0.map((v) => [v % W, Math.floor(v / W)] as const);
    for (let y = 0; y < P; y++)
      for (let x = 0; x + 1 < P; x++) {
        const [ax, ay] = xy[y * P + x]!,
          [bx, by] = xy[y * P + x + 1]!;
        assert.equal(
          Math.abs(ax - bx) + Math.abs(ay - by),
          1,
          `patch ${k}: (${x},${y}) and its right neighbour are not image neighbours`,
        );
      }
    assert.equal(new Set(t0).size, P * P, 'a window of distinct pixels');
  }
});

test('blind spots: floor(P*P*0.05) draws per channel; input = target off the mask; values from the +-5 window', () => {
  const W = 64,
    P = 32,
    C = 2,
    B = 4;
  const s = new PatchSampler([codedImage(W, W, C)], [emptyScribbles(W, W)], { patch: P, seed: 3 });
  const batch = s.batch(B);
  const draws = Math.floor(P * P * 0.05); // 51
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      const input = patchPlane(batch.input, b, P, C, c),
        target = patchPlane(batch.target, b, P, C, c),
        mask = patchPlane(batch.blindMask, b, P, C, c);
      const masked = mask.reduce((a, v) => a + v, 0);
      assert.ok(
        masked <= draws && masked >= 0.9 * draws,
        `patch ${b} channel ${c}: ${masked} blind spots for ${draws} draws`,
      );
      for (let y = 0; y < P; y++)
        for (let x = 0; x < P; x++) {
          const i = y * P + x;
          assert.ok(mask[i] === 0 || mask[i] === 1);
          if (!mask[i]) {
            assert.equal(input[i], target[i], `unmasked (${x},${y}) changed`);
            continue;
          }
          let found = false;
          for (let dy = -5; dy <= 5 && !found; dy++)
            for (let dx = -5; dx <= 5 && !found; dx++) {
              if (target[((y + dy + P) % P) * P + ((x + dx + P) % P)] === input[i]) found = true;
            }
          assert.ok(found, `patch ${b} channel ${c}: masked (${x},${y}) holds ${input[i]}, not a value within 5 px`);
        }
    }
  }
  // the two channels get independent blind spots
  assert.notDeepEqual(patchPlane(batch.blindMask, 0, P, C, 0), patchPlane(batch.blindMask, 0, P, C, 1));
});

test('scribble-biased centres: with share 1 and no jitter every patch contains the only scribbled pixel', () => {
  const W = 128,
    H = 96,
    P = 16;
  for (const [sx, sy, kind] of [
    [50, 70, SCRIBBLE_FOREGROUND],
    [2, 3, SCRIBBLE_BACKGROUND],
    [127, 95, SCRIBBLE_FOREGROUND],
  ] as const) {
    const scribbles = emptyScribbles(W, H);
    scribbles.data[sy * W + sx] = kind;
    const s = new PatchSampler([codedImage(W, H, 1)], [scribbles], { patch: P, scribbleShare: 1, jitter: 0, seed: 4 });
    assert.equal(s.hasScribbles, true);
    const b = s.batch(8);
    for (let k = 0; k < 8; k++) {
      const target = patchPlane(b.target, k, P, 1, 0);
      assert.ok(target.includes(sy * W + sx), `patch ${k} misses the scribble at (${sx},${sy})`);
      const fg = b.foreground.subarray(k * P * P, (k + 1) * P * P).reduce((a, v) => a + v, 0);
      const bg = b.background.subarray(k * P * P, (k + 1) * P * P).reduce((a, v) => a + v, 0);
      assert.deepEqual([fg, bg], kind === SCRIBBLE_FOREGROUND ? [1, 0] : [0, 1]);
      // the indicator sits where the scribbled pixel landed
      const at = target.indexOf(sy * W + sx);
      assert.equal((kind === SCRIBBLE_FOREGROUND ? b.foreground : b.background)[k * P * P + at], 1);
    }
  }
});

test('without scribble bias, a single scribble pixel is rarely in a patch', () => {
  const W = 128,
    P = 16;
  const scribbles = emptyScribbles(W, W);
  scribbles.data[50 * W + 50] = SCRIBBLE_FOREGROUND;
  const s = new PatchSampler([codedImage(W, W, 1)], [scribbles], { patch: P, scribbleShare: 0, jitter: 0, seed: 4 });
  const b = s.batch(32);
  let hits = 0;
  for (let k = 0; k < 32; k++) if (patchPlane(b.target, k, P, 1, 0).includes(50 * W + 50)) hits++;
  assert.ok(hits < 16, `${hits} of 32 uniform patches contain the scribble`);
});

test('an image the size of a patch: every patch is one of its 8 rotations/flips (same multiset of values)', () => {
  const P = 12,
    C = 2;
  const img = codedImage(P, P, C);
  const s = new PatchSampler([img], [emptyScribbles(P, P)], { patch: P, jitter: 0, seed: 2 });
  const b = s.batch(24);
  const variants = dihedral(Array.from(img.data.subarray(0, P * P)), P).map((v) => v.join(','));
  const seen = new Set<number>();
  const sortedImage = Array.from(img.data.subarray(0, P * P)).sort((a, c) => a - c);
  for (let k = 0; k < 24; k++) {
    const t = patchPlane(b.target, k, P, C, 0);
    assert.deepEqual(
      [...t].sort((a, c) => a - c),
      sortedImage,
      `patch ${k} changed the values`,
    );
    const which = variants.indexOf(t.join(','));
    assert.ok(which >= 0, `patch ${k} is not a rotation/flip of the image`);
    seen.add(which);
  }
  assert.ok(seen.size >= 4, `only ${seen.size} of 8 orientations in 24 patches`);
});

test('images smaller than a patch are reflected (numpy "reflect")', () => {
  const P = 8,
    w = 5;
  const img = codedImage(w, w, 1);
  const s = new PatchSampler([img], [emptyScribbles(w, w)], { patch: P, jitter: 0, seed: 1 });
  const reflect = [0, 1, 2, 3, 4, 3, 2, 1];
  const reflected: number[] = [];
  for (let y = 0; y < P; y++) for (let x = 0; x < P; x++) reflected.push(reflect[y]! * w + reflect[x]!);
  const variants = dihedral(reflected, P).map((v) => v.join(','));
  const b = s.batch(8);
  for (let k = 0; k < 8; k++) assert.ok(variants.includes(patchPlane(b.target, k, P, 1, 0).join(',')), `patch ${k}`);
});

test('an outlined cell is trained as a whole cell in a ring of background, or as its strokes alone', () => {
  const P = 16;
  const scribbles = emptyScribbles(P, P);
  // an outline (background) around a 6x6 inside, a 2x2 cell stroke in the middle (4 of 36 pixels)
  for (let y = 4; y <= 11; y++)
    for (let x = 4; x <= 11; x++)
      if (x === 4 || x === 11 || y === 4 || y === 11) scribbles.data[y * P + x] = SCRIBBLE_BACKGROUND;
  for (const i of [7 * P + 7, 7 * P + 8, 8 * P + 7, 8 * P + 8]) scribbles.data[i] = SCRIBBLE_FOREGROUND;
  const cellPixels = (fillOutlines: boolean, outerRing = true) => {
    const b = new PatchSampler([codedImage(P, P, 1)], [scribbles], { patch: P, fillOutlines, outerRing }).batch(1);
    return [b.foreground.reduce((s, v) => s + v, 0), b.background.reduce((s, v) => s + v, 0)];
  };
  assert.deepEqual(cellPixels(true), [36, 28 + 32], 'the 6x6 inside is cell; the outline and the 4 x 8 around it not');
  assert.deepEqual(cellPixels(true, false), [36, 28], 'without outerRing: the 28-pixel outline alone');
  assert.deepEqual(cellPixels(false), [4, 28], 'strokes alone');
});
