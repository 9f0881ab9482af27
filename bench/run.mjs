// npm run bench: our speed and accuracy next to the PyTorch reference (../shared/anchors), same machine, same run.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const anchors = path.resolve(repo, '..', 'shared', 'anchors');
const vectra = path.resolve(repo, '..', 'shared', 'data', 'vectra-2ch');
const cli = path.join(repo, 'bridge-server', 'bin', 'impartial.js');
const seconds = Number(process.env.BENCH_SECONDS ?? 120);
const checkpoint = Math.round(seconds / 2);

function run(cmd, args, label, env = {}) {
  return new Promise((resolve, reject) => {
    const prefix = Object.entries(env).map(([k, v]) => `${k}=${v} `);
    const line = [cmd, ...args].map((a) => (a.includes(' ') ? JSON.stringify(a) : a)).join(' ');
    process.stderr.write(`\n$ ${prefix.join('')}${line}\n`);
    const child = spawn(cmd, args, {
      cwd: repo,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      process.stderr.write(d);
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${label} exited with ${code}`))));
  });
}
const lastJson = (text) =>
  JSON.parse(
    text
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .pop(),
  );

// `npm run bench -- bridge` runs only the bridge, Fiji and viewer figures; `-- engine` only the engine's;
// `-- users` only the multi-user bridge's; `-- models` only the model packages' and catalogue's;
// `-- live` only live mode's stroke-to-prediction latency in the viewer;
// `-- outlines` only outline-tool strokes against brush strokes on the demo image; `-- starts` only the
// starting models for 1, 3, 6 and 8 channels against random weights; `-- bundles` only the viewer's bundle sizes;
// `-- scale` only whole-slide stitching, the real engine on a slide alone and shared, the viewport preview,
// the job queue, fan-out between nodes and the viewport of the demo slide with 1 and 2 workers.
const only = process.argv[2];
const want = (section) => !only || only === section;
const results = { date: new Date().toISOString(), seconds };
if (want('engine')) results.ours = lastJson(await run(process.execPath, [cli, 'bench', '--json'], 'impartial bench'));
// Where the convolutions take bfloat16 inputs, also the float32 figures, PyTorch's precision.
if (results.ours?.backend?.includes('bf16'))
  results.oursF32 = lastJson(
    await run(process.execPath, [cli, 'bench', '--json'], 'impartial bench (f32)', { IMPARTIAL_PRECISION: 'f32' }),
  );

const haveVectra = want('engine') && existsSync(path.join(vectra, 'image0.tif'));
const evalArgs = (init) => [
  cli,
  'eval',
  '--images',
  path.join(vectra, 'image0.tif'),
  path.join(vectra, 'image4.tif'),
  '--labels',
  path.join(vectra, 'labels', 'image0.zip'),
  path.join(vectra, 'labels', 'image4.zip'),
  '--scribble-fraction',
  '0.2',
  '--seconds',
  String(seconds),
  '--checkpoints',
  String(checkpoint),
  '--seed',
  '0',
  '--init',
  init,
  '--json',
];
if (haveVectra) {
  results.vectra = lastJson(await run(process.execPath, evalArgs('generic'), 'impartial eval'));
  results.vectraScratch = lastJson(await run(process.execPath, evalArgs('scratch'), 'impartial eval --init scratch'));
} else if (want('engine')) process.stderr.write(`\n(skipping Vectra F1: ${vectra} not found)\n`);

const python = '/usr/bin/python3';
const refScript = path.join(anchors, 'impartial_ref.py');
let haveTorch = want('engine') && existsSync(refScript) && existsSync(python);
if (haveTorch)
  haveTorch = await run(python, ['-c', 'import torch, scipy, skimage, tifffile'], 'python').then(
    () => true,
    () => false,
  );
if (haveTorch) {
  results.reference = lastJson(await run(python, [refScript, 'bench'], 'reference bench')).bench;
  if (haveVectra)
    results.referenceVectra = lastJson(
      await run(
        python,
        [refScript, 'vectra', '--seconds', String(seconds), '--checkpoints', String(checkpoint), String(seconds)],
        'reference vectra',
      ),
    ).log;
} else if (want('engine'))
  process.stderr.write(
    "\n(skipping the PyTorch reference: needs Debian's python3-torch python3-scipy python3-skimage python3-tifffile)\n",
  );

// ---- report
const f = (x, d = 3) => (x === undefined || x === null || Number.isNaN(x) ? '-' : Number(x).toFixed(d));
const rows = [];
const row = (what, ours, ref, better) =>
  rows.push([
    what,
    ours,
    ref,
    ours !== undefined && ref !== undefined ? (better === 'lower' ? ours / ref : ours / ref) : undefined,
  ]);
const o = results.ours,
  r = results.reference;
if (o) {
  row('train step d3/b16, B4, 128x128x2 (s)', o.train_step_s_d3b16b4, r?.train_d3_b16_B4?.s_per_step_median, 'lower');
  row('  GFLOP/s', o.train_gflops_d3b16b4, r?.train_d3_b16_B4?.GFLOPs);
  row('train step d4/b32, B4, 128x128x2 (s)', o.train_step_s_d4b32b4, r?.train_d4_b32_B4?.s_per_step_median, 'lower');
  row('  GFLOP/s', o.train_gflops_d4b32b4, r?.train_d4_b32_B4?.GFLOPs);
  // The reference times one 512x512 pass in train mode (dropout on); T=3 passes over 2048x2048 is 48x that work.
  const refMpx = r?.infer512_d3_b16_train ? (512 * 512) / 1e6 / (3 * r.infer512_d3_b16_train.s_median) : undefined;
  row('inference T=3, d3/b16 (Mpx/s)', o.infer_mpx_per_s, refMpx);
  const o32 = results.oursF32;
  if (o32) {
    row('train step d3/b16, float32 convolutions (s)', o32.train_step_s_d3b16b4, r?.train_d3_b16_B4?.s_per_step_median);
    row('train step d4/b32, float32 convolutions (s)', o32.train_step_s_d4b32b4, r?.train_d4_b32_B4?.s_per_step_median);
    row('inference T=3, d3/b16, float32 convolutions (Mpx/s)', o32.infer_mpx_per_s, refMpx);
  }
  const cp = (v, s) => v?.checkpoints?.find((c) => Math.abs(c.seconds - s) < 15);
  const refAt = (s) => results.referenceVectra?.find((c) => Math.abs(c.train_s - s) < 15);
  if (results.vectra) {
    row(`Vectra F1 @${checkpoint}s, own threshold`, cp(results.vectra, checkpoint)?.f1, undefined);
    row(
      `Vectra F1 @${checkpoint}s, oracle threshold`,
      cp(results.vectra, checkpoint)?.f1_best,
      refAt(checkpoint)?.best?.f1,
    );
    row(`Vectra F1 @${seconds}s, own threshold`, results.vectra.f1, undefined);
    row(`Vectra F1 @${seconds}s, oracle threshold`, results.vectra.f1_best, refAt(seconds)?.best?.f1);
    row(`Vectra F1 @${seconds}s from scratch, own threshold`, results.vectraScratch?.f1, undefined);
    row(`Vectra F1 @${seconds}s from scratch, oracle`, results.vectraScratch?.f1_best, refAt(seconds)?.best?.f1);
  }
}
if (o) {
  const width = Math.max(...rows.map((x) => x[0].length));
  console.log(`\nImPartial bench (${o.backend}) vs PyTorch reference, same machine, same run (${results.date})`);
  console.log(
    `${'measure'.padEnd(width)}  ${'ours'.padStart(8)}  ${'reference'.padStart(9)}  ${'ours/ref'.padStart(8)}`,
  );
  for (const [what, ours, ref, ratio] of rows)
    console.log(`${what.padEnd(width)}  ${f(ours).padStart(8)}  ${f(ref).padStart(9)}  ${f(ratio, 2).padStart(8)}`);
}

if (want('bridge')) {
  const b = lastJson(await run(process.execPath, [path.join(repo, 'bench', 'bridge.mjs')], 'bridge bench'));
  results.bridge = b;
  const ms = (s) => `p50 ${f(s.p50, 1)} ms  p99 ${f(s.p99, 1)} ms  (n=${s.n ?? '-'})`;
  console.log(`\nBridge (impartial serve, 20 WebSocket clients, loopback)`);
  console.log(`  stroke -> sender's ack                  ${ms(b.strokes.ack)}`);
  console.log(`  stroke -> all 19 other clients          ${ms(b.strokes.fanout)}`);
  const whileTraining = b.strokesWhileTraining;
  console.log(
    `  same while training (d3/b16, B4, 128)   ack ${ms(whileTraining.ack)}; fan-out ${ms(whileTraining.fanout)}`,
  );
  console.log(`  WebSocket ping while training           ${ms(b.pingWhileTraining)}`);
  const lag = b.eventLoopWhileTraining;
  console.log(
    `  event-loop lag while training           p50 ${f(lag.p50, 1)} ms  p99 ${f(lag.p99, 1)} ms  ` +
      `max ${f(lag.max, 1)} ms`,
  );
  const { firstTileSeconds: tile, wholeImageSeconds: whole } = b.viewport;
  console.log(
    `  first viewport tile (2048^2, T=3)       ${f(tile, 2)} s; whole image ${f(whole, 2)} s ` +
      `(ratio ${f(tile / whole, 2)})`,
  );
  const slide = b.slideImport;
  console.log(
    `  import ${slide.side}^2 x ${slide.channels} ch (uint8)       ${f(slide.seconds, 1)} s, ` +
      `peak RSS ${f(slide.peakRssMb, 0)} MB`,
  );
  const h = lastJson(await run(process.execPath, [path.join(repo, 'bench', 'hardening.mjs')], 'hardening bench'));
  results.hardening = h;
  const worst = (x) => `worst ${f(x.worstMs, 0)} ms, p50 ${f(x.p50Ms, 1)} ms (n=${x.n})`;
  console.log('\nBridge under heavy requests (GET /api/info latency while they are processed)');
  console.log(`  20000-point stroke on 30000^2            ${worst(h.infoDuringHugeStroke)}`);
  console.log(`  its undo (raster rebuilt)               ${worst(h.infoDuringHugeUndo)}`);
  console.log(`  1000-ROI label set (MONAI PUT)          ${worst(h.infoDuring1000Rois)}`);
  const kb = h.idleWebSocketKb;
  console.log(`  memory per idle WebSocket               ${f(kb.rss, 0)} KB RSS, ${f(kb.heap, 0)} KB heap`);
  console.log(`  connections held before refusing (503)  ${h.connectionsHeldBeforeRefusing}`);
  const fj = lastJson(await run(process.execPath, [path.join(repo, 'bench', 'fiji.mjs')], 'fiji bench'));
  results.fiji = fj;
  const p90 = (s) => `p50 ${f(s.p50, 0)} ms  p90 ${f(s.p90, 0)} ms  (n=${s.n})`;
  if (fj.skipped) console.log(`\nFiji bridge: skipped (${fj.skipped})`);
  else {
    console.log('\nFiji bridge (real ImageJ 1.53t, macro toolset, Xvfb)');
    console.log(`  ROI drawn in ImageJ -> WebSocket client  ${p90(fj.roiToWeb)}`);
    console.log(`  prediction -> ImageJ overlays            ${p90(fj.predictionToImageJ)}`);
  }
  const v = lastJson(await run(process.execPath, [path.join(repo, 'bench', 'viewer.mjs')], 'viewer bench'));
  results.viewer = v;
  if (v.skipped) console.log(`\nViewer: skipped (${v.skipped})`);
  else {
    console.log('\nViewer (<impartial-viewer>, headless Chromium, WebGL on SwiftShader: software rendering)');
    console.log(`  first image frame after page load        p50 ${f(v.firstFrameMs.p50, 0)} ms`);
    const pan = v.panFrameMs;
    console.log(
      `  frame time panning, all layers / image   ${f(pan.allLayers, 1)} / ${f(pan.imageOnly, 1)} ms ` +
        `(ratio ${f(pan.ratio, 2)}; mean per 3-s round, median of ${pan.rounds.allLayers.length} alternating rounds)`,
    );
    const { received, shown } = v.strokeToSecondViewerMs;
    console.log(
      `  stroke -> second viewer, received / shown p50 ${f(received.p50, 0)} / ${f(shown.p50, 0)} ms  ` +
        `p90 ${f(received.p90, 0)} / ${f(shown.p90, 0)} ms`,
    );
    const bundle = v.bundle;
    console.log(
      `  bundle (gzip): the element ${f(bundle.elementGzipKb, 0)} kB, ` +
        `everything incl. lazy codecs ${f(bundle.allGzipKb, 0)} kB`,
    );
  }
}
if (want('live')) {
  const l = lastJson(await run(process.execPath, [path.join(repo, 'bench', 'live.mjs')], 'live bench'));
  results.live = l;
  if (l.skipped) console.log(`\nLive mode: skipped (${l.skipped})`);
  else {
    const s = (x) =>
      `p50 ${f(x.p50 / 1000, 2)} s  p90 ${f(x.p90 / 1000, 2)} s  ` +
      `(min ${f(x.min / 1000, 2)}, max ${f(x.max / 1000, 2)})`;
    console.log(
      `\nLive mode (demo image 512^2 x 2 in headless Chromium, default training settings, ${l.strokes} strokes)`,
    );
    console.log(`  pointer-up -> first tile of a refresh that trained with it  ${s(l.strokeToFirstTileMs)}`);
    console.log(`  pointer-up -> that refresh complete                         ${s(l.strokeToCompleteMs)}`);
    console.log(`  refreshes ${l.refreshes}, ${f(l.stepsPerSecond, 2)} steps/s while drawing`);
  }
}
if (want('users')) {
  const u = lastJson(await run(process.execPath, [path.join(repo, 'bench', 'users.mjs')], 'users bench'));
  results.users = u;
  const ms = (s) => `p50 ${f(s.p50, 1)} ms  p99 ${f(s.p99, 1)} ms  (n=${s.n})`;
  const line = (label, value) => console.log(`  ${label.padEnd(41)}${value}`);
  console.log(
    `\nMulti-user bridge (serve --users, ${u.accounts} accounts, ${u.viewers} viewers on one image, loopback)`,
  );
  line('login (argon2id verify)', ms(u.loginMs));
  line(`stroke -> the other ${u.viewers - 1} viewers`, ms(u.fanout));
  line(`same while ${u.trainingsRunning} accounts train`, ms(u.fanoutWhileTraining));
  line('GET /api/info while they train', ms(u.infoWhileTraining));
  const lag = u.eventLoopWhileTraining;
  line('event-loop lag while they train', `p50 ${f(lag.p50, 1)} ms  p99 ${f(lag.p99, 1)} ms  max ${f(lag.max, 1)} ms`);
}
if (want('models')) {
  const m = lastJson(await run(process.execPath, [path.join(repo, 'bench', 'models.mjs')], 'models bench'));
  results.models = m;
  const line = (label, value) => console.log(`  ${label.padEnd(46)}${value}`);
  console.log('\nModel sharing (the generic model, medians)');
  line('bioimage.io package (incl. its ONNX check)', `${f(m.exportMs, 0)} ms, ${f(m.packageKb, 0)} KB`);
  line(`one pass, ${m.side} x ${m.side} x 2, engine (${m.backend})`, `${f(m.engineMs, 0)} ms`);
  line(
    'same, onnxruntime-node on the ONNX export',
    `${f(m.onnxMs, 0)} ms  (engine / ONNX ${f(m.engineMs / m.onnxMs, 2)})`,
  );
  line('largest |ONNX - engine| on it', m.maxDiff.toExponential(2));
  line(`catalogue list, ${m.catalogueEntries} entries with uses`, `${f(m.catalogueListMs, 1)} ms`);
}
if (want('outlines')) {
  const o = lastJson(await run(process.execPath, [path.join(repo, 'bench', 'outlines.mjs')], 'outlines bench'));
  results.outlines = o;
  const line = (label, value) => console.log(`  ${label.padEnd(46)}${value}`);
  console.log(
    `\nOutlines vs brush strokes on the demo image (${o.cells} touching cells marked, ${o.background_strokes} ` +
      'background strokes each; the shipped model trained on; medians over seeds 0-2)',
  );
  line(
    'the shipped model, before any stroke',
    `F1 ${f(o.start.f1, 3)}, near the marked cells F1 ${f(o.start.f1_marked, 3)}`,
  );
  for (const [k, v] of Object.entries(o.summary))
    line(
      k.replace('_', ', '),
      `F1 ${f(v.f1, 3)}, near the marked cells F1 ${f(v.f1_marked, 3)} and ${v.merged_marked} merged ` +
        `(${v.steps} steps)`,
    );
}
if (want('starts')) {
  const st = lastJson(await run(process.execPath, [path.join(repo, 'bench', 'start-models.mjs')], 'starts bench'));
  results.starts = st;
  const line = (label, value) => console.log(`  ${label.padEnd(46)}${value}`);
  console.log(`\nStarting models: F1 after ${st.seconds} s on a synthetic ${st.size}^2 image, medians over seeds 0-2`);
  for (const c of ['c1', 'c3', 'c6', 'c8'].filter((k) => k in st))
    line(`${c.slice(1)} channel(s): starting model / random`, `${f(st[c].generic, 3)} / ${f(st[c].scratch, 3)}`);
}
if (want('bundles')) {
  const b = lastJson(await run(process.execPath, [path.join(repo, 'bench', 'bundles.mjs')], 'bundles bench'));
  results.bundles = b;
  const kb = (n) => `${(n / 1024).toFixed(0)} KiB`;
  console.log('\nBundle sizes (esbuild, minified, one file each): raw / gzip');
  for (const [label, r] of [
    ['<impartial-viewer> (deck.gl, luma.gl, Viv inside)', b.element],
    ["host layer set (/host; deck.gl, luma.gl, Viv the host's)", b.hostLayers],
    ['Viv host example app (its deck.gl and Viv + /host)', b.vivHostApp],
    ['demo page (the element + image list)', b.demoPage],
    ["Vitessce plugin view (Vitessce and React the app's)", b.vitesscePlugin],
    ['Vitessce example app: what its page loads at the start', b.vitessceApp],
    [`Vitessce example app: all ${b.vitessceApp.files} chunks (3D, XR, codecs lazy)`, b.vitessceApp.all],
  ])
    console.log(`  ${label.padEnd(58)}${kb(r.bytes)} / ${kb(r.gzip)}`);
}
if (want('scale')) {
  const sc = lastJson(await run(process.execPath, [path.join(repo, 'bench', 'scale.mjs')], 'scale bench'));
  results.scale = sc;
  const line = (label, value) => console.log(`  ${label.padEnd(46)}${value}`);
  const side = sc.preview.side;
  console.log('\nWhole-slide inference in blocks (stitched cells)');
  for (const name of ['rowOrder', 'shuffled']) {
    const r = sc[name];
    line(
      `${name === 'rowOrder' ? 'blocks in row order' : 'blocks in any order (workers)'}, F1 whole / stitched`,
      `${f(r.whole.scores.f1, 4)} / ${f(r.stitched.scores.f1, 4)}  cells ${r.whole.cells} / ${r.stitched.cells}`,
    );
    line('  truth cells crossing borders, cut by stitching', `${r.crossingBorders}, ${r.stitched.cutByStitching}`);
  }
  const fs = lastJson(await run(process.execPath, [path.join(repo, 'bench', 'farm-slide.mjs')], 'farm bench'));
  results.farmSlide = fs;
  console.log(
    `\nThe real engine on a ${fs.side}^2 x 2 slide, tiles of ${fs.tile} (model: ${fs.training.seconds} s on a crop)`,
  );
  for (const [label, r] of [
    ['one worker alone', fs.alone],
    [`a job shared over ${fs.workers} workers`, fs.farmed],
  ])
    line(
      label,
      `F1 ${f(r.f1, 4)}, ${r.cells} cells, ${r.cutAtBorders} truth cells cut at borders, ${f(r.seconds, 0)} s`,
    );
  line('  truth cells crossing tile borders', `${fs.crossingBorders} of ${fs.truthCells}`);
  line(
    '  control: cut on mid-tile lines (no border)',
    `${fs.alone.cutAtMidLines} of ${fs.alone.crossingMidLines} crossing them`,
  );
  line('  labels identical, shares on each worker', `${fs.identical}, ${fs.farmed.sharesPerWorker.join(' / ')}`);
  const p = sc.preview;
  line(`viewport ${p.viewport.width} x ${p.viewport.height} of ${side}^2: preview`, `${f(p.preview, 1)} s`);
  line(`  its MC entropy (${p.passes} passes)`, `${f(p.mc, 1)} s`);
  const q = lastJson(await run(process.execPath, [path.join(repo, 'bench', 'queue.mjs')], 'queue bench'));
  results.queue = q;
  console.log(`\nJobs through BullMQ (${q.jobs} inference jobs at once, 256 x 256 x 2, one pass)`);
  for (const [n, w] of Object.entries(q.workers)) {
    const l = w.queueLatencyMs;
    line(
      `${n} worker process(es)`,
      `${f(w.jobsPerMinute, 1)} jobs/min; queue latency idle ${f(l.idle, 0)} ms, burst median ${f(l.median, 0)} ms`,
    );
  }
  line('stroke fan-out across 2 nodes', `p50 ${f(q.fanout.p50, 1)} ms  p99 ${f(q.fanout.p99, 1)} ms`);
  const v = lastJson(await run(process.execPath, [path.join(repo, 'bench', 'viewport.mjs')], 'viewport bench'));
  results.viewport = v;
  console.log(`\nPredict on the demo slide (${v.side}^2 x 8), a 1536 x 1024 viewport at 1:1, ${v.passes} MC passes`);
  for (const [label, r] of [
    ['embedded (the bridge alone)', v.embedded],
    ['1 worker process', v.workers1],
    ['2 worker processes sharing the tiles', v.workers2],
  ])
    line(label, `preview ${f(r.previewSeconds, 1)} s, MC entropy ${f(r.mcSeconds, 1)} s`);
  line('  2 workers vs embedded (x faster)', `preview ${f(v.speedup2.preview, 2)}, MC ${f(v.speedup2.mc, 2)}`);
}
mkdirSync(path.join(repo, 'bench', 'results'), { recursive: true });
const file = path.join(repo, 'bench', 'results', `bench-${results.date.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify(results, null, 1));
console.log(`\nraw numbers: ${path.relative(repo, file)}`);
