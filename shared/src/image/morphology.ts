/**
 * Binary and label morphology on row-major rasters (width x height), the pieces scribble synthesis
 * and instance extraction need: erosion, skeleton, distance transform, connected components.
 */

/**
 * Erosion with a 3x3 cross (4-neighbours) or 3x3 square; pixels outside the raster count as 0
 * (scipy's border_value=0).
 */
export function erode(
  mask: Uint8Array,
  width: number,
  height: number,
  shape: 'cross' | 'square' = 'cross',
): Uint8Array {
  const out = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!mask[i]) continue;
      if (x === 0 || y === 0 || x === width - 1 || y === height - 1) continue;
      if (!mask[i - 1] || !mask[i + 1] || !mask[i - width] || !mask[i + width]) continue;
      if (
        shape === 'square' &&
        (!mask[i - width - 1] || !mask[i - width + 1] || !mask[i + width - 1] || !mask[i + width + 1])
      )
        continue;
      out[i] = 1;
    }
  }
  return out;
}

/** Erosion by a (2r+1)x(2r+1) square, as r successive 3x3 square erosions. */
export function erodeSquare(mask: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  let m = mask;
  for (let r = 0; r < radius; r++) m = erode(m, width, height, 'square');
  return m;
}

/** Pixels of the mask that have a 4-neighbour outside it (the 1 px inner outline). */
export function innerOutline(mask: Uint8Array, width: number, height: number): Uint8Array {
  const eroded = erode(mask, width, height, 'cross');
  const out = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) out[i] = mask[i] && !eroded[i] ? 1 : 0;
  return out;
}

/** Zhang-Suen thinning to a 1 px, 8-connected skeleton. */
export function skeletonize(mask: Uint8Array, width: number, height: number): Uint8Array {
  const img = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) img[i] = mask[i] ? 1 : 0;
  const at = (x: number, y: number) => (x < 0 || y < 0 || x >= width || y >= height ? 0 : img[y * width + x]!);
  const toDelete: number[] = [];
  let changed = true;
  while (changed) {
    changed = false;
    for (let pass = 0; pass < 2; pass++) {
      toDelete.length = 0;
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          if (!img[y * width + x]) continue;
          // neighbours P2..P9 clockwise from north
          const p = [
            at(x, y - 1),
            at(x + 1, y - 1),
            at(x + 1, y),
            at(x + 1, y + 1),
            at(x, y + 1),
            at(x - 1, y + 1),
            at(x - 1, y),
            at(x - 1, y - 1),
          ];
          const b = p.reduce((s, v) => s + v, 0);
          if (b < 2 || b > 6) continue;
          let a = 0;
          for (let k = 0; k < 8; k++) if (p[k] === 0 && p[(k + 1) % 8] === 1) a++;
          if (a !== 1) continue;
          const [p2, , p4, , p6, , p8] = p as [number, number, number, number, number, number, number, number];
          if (pass === 0 ? p2 * p4 * p6 !== 0 || p4 * p6 * p8 !== 0 : p2 * p4 * p8 !== 0 || p2 * p6 * p8 !== 0)
            continue;
          toDelete.push(y * width + x);
        }
      }
      for (const i of toDelete) img[i] = 0;
      if (toDelete.length) changed = true;
    }
  }
  return img;
}

/** 1-D squared distance transform of Felzenszwalb & Huttenlocher (lower envelope of parabolas). */
function edt1d(f: Float64Array, n: number, d: Float64Array, v: Int32Array, z: Float64Array): void {
  let k = 0;
  v[0] = 0;
  z[0] = -Infinity;
  z[1] = Infinity;
  for (let q = 1; q < n; q++) {
    if (f[q] === Infinity) continue;
    while (true) {
      const p = v[k]!;
      if (f[p] === Infinity) {
        v[k] = q;
        z[k] = -Infinity;
        z[k + 1] = Infinity;
        break;
      }
      const s = (f[q]! + q * q - (f[p]! + p * p)) / (2 * q - 2 * p);
      if (s <= z[k]!) {
        if (k === 0) {
          v[0] = q;
          z[0] = -Infinity;
          z[1] = Infinity;
          break;
        }
        k--;
        continue;
      }
      k++;
      v[k] = q;
      z[k] = s;
      z[k + 1] = Infinity;
      break;
    }
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1]! < q) k++;
    const p = v[k]!;
    d[q] = f[p] === Infinity ? Infinity : (q - p) * (q - p) + f[p]!;
  }
}

/**
 * Exact Euclidean distance from each pixel to the nearest pixel where `isZero` is set (scipy's
 * distance_transform_edt of the complement).
 */
export function distanceTransform(isZero: Uint8Array, width: number, height: number): Float32Array {
  const n = Math.max(width, height);
  const f = new Float64Array(n),
    d = new Float64Array(n),
    z = new Float64Array(n + 1);
  const v = new Int32Array(n);
  const grid = new Float64Array(width * height);
  for (let i = 0; i < grid.length; i++) grid[i] = isZero[i] ? 0 : Infinity;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) f[y] = grid[y * width + x]!;
    edt1d(f, height, d, v, z);
    for (let y = 0; y < height; y++) grid[y * width + x] = d[y]!;
  }
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) f[x] = grid[y * width + x]!;
    edt1d(f, width, d, v, z);
    for (let x = 0; x < width; x++) out[y * width + x] = Math.sqrt(d[x]!);
  }
  return out;
}

/** 4-connected components of a binary mask; labels 1..count in raster order of first pixel. */
export function connectedComponents(
  mask: Uint8Array,
  width: number,
  height: number,
): { labels: Int32Array; count: number } {
  const labels = new Int32Array(mask.length);
  const stack = new Int32Array(mask.length);
  let count = 0;
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || labels[start]) continue;
    count++;
    let top = 0;
    stack[top++] = start;
    labels[start] = count;
    while (top > 0) {
      const i = stack[--top]!;
      const x = i % width;
      const y = (i - x) / width;
      if (x > 0 && mask[i - 1] && !labels[i - 1]) {
        labels[i - 1] = count;
        stack[top++] = i - 1;
      }
      if (x < width - 1 && mask[i + 1] && !labels[i + 1]) {
        labels[i + 1] = count;
        stack[top++] = i + 1;
      }
      if (y > 0 && mask[i - width] && !labels[i - width]) {
        labels[i - width] = count;
        stack[top++] = i - width;
      }
      if (y < height - 1 && mask[i + width] && !labels[i + width]) {
        labels[i + width] = count;
        stack[top++] = i + width;
      }
    }
  }
  return { labels, count };
}

/** Pixel count of every label (index = label id). */
export function labelAreas(labels: Int32Array, maxLabel?: number): Int32Array {
  let max = maxLabel ?? 0;
  if (maxLabel === undefined) for (const v of labels) if (v > max) max = v;
  const areas = new Int32Array(max + 1);
  for (const v of labels) if (v > 0) areas[v]!++;
  return areas;
}

/** Drops objects smaller than minSize pixels and renumbers the rest 1..n in order. */
export function removeSmallObjects(labels: Int32Array, minSize: number): { labels: Int32Array; count: number } {
  const areas = labelAreas(labels);
  const remap = new Int32Array(areas.length);
  let count = 0;
  for (let k = 1; k < areas.length; k++) if (areas[k]! >= minSize) remap[k] = ++count;
  const out = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) out[i] = remap[labels[i]!]!;
  return { labels: out, count };
}

/**
 * Grows every label by 1 px (3x3) into background only; where labels compete, the largest id wins
 * (scipy grey_dilation).
 */
export function dilateIntoBackground(labels: Int32Array, width: number, height: number): Int32Array {
  const out = labels.slice();
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (labels[i]) continue;
      let best = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= width) continue;
          const v = labels[yy * width + xx]!;
          if (v > best) best = v;
        }
      }
      out[i] = best;
    }
  }
  return out;
}

/** Bounding boxes of every label: [x0, y0, x1, y1) per id (x0 = Infinity when absent). */
export function labelBoxes(labels: Int32Array, width: number, maxLabel: number): Int32Array {
  const boxes = new Int32Array((maxLabel + 1) * 4);
  for (let k = 0; k <= maxLabel; k++) {
    boxes[4 * k] = 2 ** 30;
    boxes[4 * k + 1] = 2 ** 30;
    boxes[4 * k + 2] = -1;
    boxes[4 * k + 3] = -1;
  }
  for (let i = 0; i < labels.length; i++) {
    const k = labels[i]!;
    if (k <= 0) continue;
    const x = i % width,
      y = (i - x) / width;
    if (x < boxes[4 * k]!) boxes[4 * k] = x;
    if (y < boxes[4 * k + 1]!) boxes[4 * k + 1] = y;
    if (x + 1 > boxes[4 * k + 2]!) boxes[4 * k + 2] = x + 1;
    if (y + 1 > boxes[4 * k + 3]!) boxes[4 * k + 3] = y + 1;
  }
  return boxes;
}
