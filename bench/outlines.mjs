// Outlines against brush strokes (in `npm run bench -- outlines`, or alone: node bench/outlines.mjs after a
// build). On the demo image (synthetic-1 of `impartial serve --demo`: 512^2 x 2 with ground truth), the same
// 10 cells, each of them touching another, are marked two ways, as a person would in the viewer:
//   outlines: the outline tool around each cell (the bridge's conversion: skeleton and inner ring as cell,
//             the border as background);
//   brush:    one cell-class stroke of the viewer's default width (4) along each cell's long axis.
// Both get the same 10 background brush strokes, away from every cell. Each trains from the shipped
// 2-channel model for BENCH_OUTLINE_SECONDS (default 20 and 60) with seeds 0, 1, 2, runs alternating, and is
// cut with the bridge's default instance options (no calibration: the viewer shows that). Printed: F1
// against the whole ground truth, merged cells (truth cells sharing a predicted cell with another, half or
// more of each in it), and the same for the 10 marked cells and their touching neighbours alone.
import {
  DEFAULT_INSTANCE_OPTIONS,
  keepLabels,
  labelOutlines,
  matchInstances,
  normalizeImage,
  outlinesToStrokes,
  PatchSampler,
  predict,
  probabilityToInstances,
  rasterizeDrawings,
  syntheticCells,
  TRAINING_DEFAULTS,
  train,
} from '@impartial/shared';
import { initBackend, loadGenericModel } from '@impartial/shared/node';

const log = (m) => process.stderr.write(`${m}\n`);
const SIZE = 512;
const SECONDS = (process.env.BENCH_OUTLINE_SECONDS ?? '20,60').split(',').map(Number);
const SEEDS = (process.env.BENCH_OUTLINE_SEEDS ?? '0,1,2').split(',').map(Number);
const CELLS = 10;
const BRUSH_WIDTH = 4;

const sample = syntheticCells({ width: SIZE, height: SIZE, channels: 2, seed: 1 });
const truth = sample.labels;
const at = (x, y) => (x < 0 || y < 0 || x >= SIZE || y >= SIZE ? -1 : truth.data[y * SIZE + x]);

/** Each cell's pixels, and the cells it touches (4-neighbours). */
const pixels = new Map();
const touches = new Map();
for (let y = 0; y < SIZE; y++)
  for (let x = 0; x < SIZE; x++) {
    const v = at(x, y);
    if (!v) continue;
    if (!pixels.has(v)) pixels.set(v, []);
    pixels.get(v).push([x, y]);
    for (const [dx, dy] of [
      [1, 0],
      [0, 1],
    ]) {
      const w = at(x + dx, y + dy);
      if (w > 0 && w !== v) {
        if (!touches.has(v)) touches.set(v, new Set());
        if (!touches.has(w)) touches.set(w, new Set());
        touches.get(v).add(w);
        touches.get(w).add(v);
      }
    }
  }
const areas = [...pixels.values()].map((p) => p.length).sort((a, b) => a - b);
const median = areas[areas.length >> 1];
// Cells of about the median size that touch another cell, away from the edges, spread over the ids.
const candidates = [...pixels.keys()]
  .filter((id) => touches.has(id))
  .filter((id) => {
    const p = pixels.get(id);
    const inside = p.every(([x, y]) => x > 8 && y > 8 && x < SIZE - 8 && y < SIZE - 8);
    return inside && p.length > median * 0.6 && p.length < median * 1.6;
  })
  .sort((a, b) => a - b);
const chosen = Array.from({ length: CELLS }, (_, k) => candidates[Math.floor((k * candidates.length) / CELLS)]);
log(
  `demo image: ${pixels.size} cells (median ${median} px), ${candidates.length} touching; marked ${chosen.join(' ')}`,
);

/** One stroke along the cell's long axis through its centroid, kept where the brush stays inside the cell. */
function axisStroke(id) {
  const p = pixels.get(id);
  const cx = p.reduce((s, q) => s + q[0], 0) / p.length,
    cy = p.reduce((s, q) => s + q[1], 0) / p.length;
  let xx = 0,
    yy = 0,
    xy = 0;
  for (const [x, y] of p) {
    xx += (x - cx) ** 2;
    yy += (y - cy) ** 2;
    xy += (x - cx) * (y - cy);
  }
  const angle = 0.5 * Math.atan2(2 * xy, xx - yy);
  const [ux, uy] = [Math.cos(angle), Math.sin(angle)];
  const r = BRUSH_WIDTH / 2;
  const fits = (x, y) => {
    for (let dy = -Math.ceil(r); dy <= Math.ceil(r); dy++)
      for (let dx = -Math.ceil(r); dx <= Math.ceil(r); dx++)
        if (dx * dx + dy * dy <= r * r && at(Math.round(x + dx), Math.round(y + dy)) !== id) return false;
    return true;
  };
  const points = [];
  for (let t = -40; t <= 40; t += 0.5) {
    const x = cx + 0.5 + t * ux,
      y = cy + 0.5 + t * uy;
    if (fits(x - 0.5, y - 0.5)) points.push([x, y]);
  }
  // A cell too thin for the brush gets a dab at its centre.
  return { op: 'add', class: 1, width: BRUSH_WIDTH, points: points.length ? points : [[cx + 0.5, cy + 0.5]] };
}

/** Background strokes a person would brush: 20-px lines at least 4 px from any cell, spread over the image. */
function backgroundStrokes() {
  const clear = (x, y) => {
    for (let dy = -4; dy <= 4; dy++) for (let dx = -4; dx <= 4; dx++) if (at(x + dx, y + dy) !== 0) return false;
    return true;
  };
  const out = [];
  for (let gy = 0; gy < 5 && out.length < CELLS; gy++)
    for (let gx = 0; gx < 5 && out.length < CELLS; gx++) {
      search: for (let y = 20 + gy * 100; y < 100 + gy * 100; y += 3)
        for (let x = 20 + gx * 100; x < 80 + gx * 100; x += 3) {
          let ok = true;
          for (let k = 0; k <= 20 && ok; k += 2) ok = clear(x + k, y);
          if (ok) {
            out.push({
              op: 'add',
              class: 2,
              width: BRUSH_WIDTH,
              points: [
                [x + 0.5, y + 0.5],
                [x + 20.5, y + 0.5],
              ],
            });
            break search;
          }
        }
    }
  return out;
}

const background = backgroundStrokes();
const outlineStrokes = outlinesToStrokes([...labelOutlines(keepLabels(truth, chosen)).values()], SIZE, SIZE);
const markings = {
  outlines: [...outlineStrokes, ...background],
  brush: [...chosen.map(axisStroke), ...background],
};
const scribblesOf = (drawings) => {
  const r = rasterizeDrawings(drawings, SIZE, SIZE);
  return r.region(0, 0, SIZE, SIZE);
};

/** Truth cells (in `among`, when given) that share a predicted cell with another: half or more of each is in it. */
function merged(pred, among) {
  const overlap = new Map();
  for (let i = 0; i < pred.data.length; i++) {
    const p = pred.data[i],
      t = truth.data[i];
    if (!p || !t || (among && !among.has(t))) continue;
    const key = `${p},${t}`;
    overlap.set(key, (overlap.get(key) ?? 0) + 1);
  }
  const covered = new Map();
  for (const [key, n] of overlap) {
    const [p, t] = key.split(',').map(Number);
    if (n >= pixels.get(t).length / 2) covered.set(p, (covered.get(p) ?? 0) + 1);
  }
  return [...covered.values()].filter((n) => n >= 2).reduce((sum, n) => sum + n, 0);
}

const neighbourhood = new Set(chosen.flatMap((id) => [id, ...touches.get(id)]));
const local = keepLabels(truth, neighbourhood);
const backend = await initBackend();
const image = normalizeImage(sample.image);
const runs = [];
/** F1 and merges of a model's prediction, over the whole image and near the marked cells. */
async function scores(model) {
  const { probability } = await predict(model.config, model.weights, image, { passes: 3 });
  const pred = probabilityToInstances(probability, DEFAULT_INSTANCE_OPTIONS);
  const localPred = keepLabels(
    pred,
    new Set([...pred.data.keys()].filter((i) => neighbourhood.has(truth.data[i])).map((i) => pred.data[i])),
  );
  return {
    f1: matchInstances(truth, pred).f1,
    merged: merged(pred),
    f1_marked: matchInstances(local, localPred).f1,
    merged_marked: merged(pred, neighbourhood),
  };
}
// The reference: the shipped model as it starts, before any stroke.
const start = await scores(await loadGenericModel(2));
log(`the shipped model before training: ${JSON.stringify(start)}`);
for (const seconds of SECONDS)
  for (const seed of SEEDS)
    for (const [name, drawings] of Object.entries(markings)) {
      const parent = await loadGenericModel(2);
      const scribbles = scribblesOf(drawings);
      // The bridge's training settings (what the viewer's Train button asks for).
      const sampler = new PatchSampler([image], [scribbles], { seed, patch: TRAINING_DEFAULTS.patch });
      const { batchSize, learningRate, weightDecay } = TRAINING_DEFAULTS;
      const result = await train(parent.config, parent.weights, sampler, {
        seconds,
        seed,
        batchSize,
        learningRate,
        weightDecay,
      });
      const run = { marking: name, seconds, seed, steps: result.steps, ...(await scores(parent)) };
      runs.push(run);
      log(JSON.stringify(run));
    }

const medianOf = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const summary = {};
for (const seconds of SECONDS)
  for (const name of Object.keys(markings)) {
    const of = runs.filter((r) => r.seconds === seconds && r.marking === name);
    summary[`${name}_${seconds}s`] = Object.fromEntries(
      ['f1', 'merged', 'f1_marked', 'merged_marked', 'steps'].map((k) => [k, medianOf(of.map((r) => r[k]))]),
    );
  }
log('\nmedians over seeds:');
log(
  `shipped model  F1 ${start.f1.toFixed(3)}  merged ${start.merged}  ` +
    `near the marked cells: F1 ${start.f1_marked.toFixed(3)}`,
);
for (const [k, v] of Object.entries(summary))
  log(
    `${k.padEnd(14)} F1 ${v.f1.toFixed(3)}  merged ${v.merged}  near the marked cells: F1 ${v.f1_marked.toFixed(3)}, ` +
      `merged ${v.merged_marked}  (${v.steps} steps)`,
  );
console.log(
  JSON.stringify({
    cells: chosen.length,
    neighbourhood: neighbourhood.size,
    background_strokes: background.length,
    backend: backend.description,
    start,
    summary,
    runs,
  }),
);
// The wasm backend's threads would keep the process alive.
process.exit(0);
