// The engine on tfjs' WebGPU backend, in Chromium on SwiftShader (no GPU here), against the cpu
// backend in the same page: gradients, a few Adam steps and a Monte-Carlo dropout inference.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { chromiumMissing, launchChromium, WEBGPU_ON_SWIFTSHADER } from '../helpers/browser.js';
import { repo } from '../helpers/cli.js';
import { serveFolder } from '../helpers/static-server.js';
import type { BackendRun } from './pages/engine-backends.js';

const TOLERANCE = 1e-3;
// Skipped where Chromium is missing, except in CI, which installs it and must run this.
const skip = process.env.CI ? undefined : chromiumMissing();

let dir: string;
let site: { url: string; close(): Promise<void> };
let browser: Browser;

before(async () => {
  if (skip) return;
  const absent = chromiumMissing();
  if (absent) throw new Error(`CI must run the browser tests: ${absent}`);
  dir = await mkdtemp(path.join(tmpdir(), 'impartial-webgpu-'));
  await build({
    entryPoints: [path.join(repo, 'test', 'dist', 'e2e', 'pages', 'engine-backends.js')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    outfile: path.join(dir, 'engine.js'),
    logLevel: 'warning',
  });
  await writeFile(path.join(dir, 'index.html'), '<!doctype html><script type="module" src="engine.js"></script>');
  site = await serveFolder(dir);
  browser = await launchChromium(WEBGPU_ON_SWIFTSHADER);
});

after(async () => {
  await browser?.close();
  await site?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Largest |a - b| over two arrays of the same length. */
function maxDiff(a: number[], b: number[]): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('WebGPU (SwiftShader) trains and predicts as the cpu backend does, to 1e-3', { skip }, async () => {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${site.url}/index.html`);
  await page.waitForFunction(() => 'runEngineBackends' in globalThis, undefined, { timeout: 60_000 });
  const r = await page.evaluate(() =>
    (
      globalThis as unknown as {
        runEngineBackends(): Promise<{ adapter: string; cpu: BackendRun; webgpu: BackendRun }>;
      }
    ).runEngineBackends(),
  );
  assert.deepEqual(errors, []);
  assert.equal(r.cpu.backend, 'cpu');
  assert.equal(r.webgpu.backend, 'webgpu', `the WebGPU run fell back to ${r.webgpu.backend}`);
  assert.match(r.adapter, /swiftshader|google|nvidia|amd|intel/i, `adapter ${r.adapter}`);

  const names = Object.keys(r.cpu.gradients);
  assert.ok(names.length >= 10, `${names.length} weights`);
  for (const name of names) {
    const scale = Math.max(1, ...r.cpu.gradients[name]!.map(Math.abs));
    const d = maxDiff(r.cpu.gradients[name]!, r.webgpu.gradients[name]!);
    assert.ok(d <= TOLERANCE * scale, `gradient of ${name}: max difference ${d}`);
  }
  for (const [k, cpuStep] of r.cpu.losses.entries()) {
    const gpuStep = r.webgpu.losses[k]!;
    for (const [j, v] of cpuStep.entries())
      assert.ok(
        Math.abs(v - gpuStep[j]!) <= TOLERANCE * Math.max(1, Math.abs(v)),
        `step ${k} loss ${j}: ${v} vs ${gpuStep[j]}`,
      );
  }
  assert.notEqual(r.cpu.losses[0]![0], r.cpu.losses[2]![0], 'the steps changed the loss');
  for (const name of names) {
    const d = maxDiff(r.cpu.weights[name]!, r.webgpu.weights[name]!);
    assert.ok(d <= TOLERANCE, `${name} after Adam: max difference ${d}`);
  }
  const p = maxDiff(r.cpu.probability, r.webgpu.probability),
    e = maxDiff(r.cpu.entropy, r.webgpu.entropy);
  assert.ok(p <= TOLERANCE && e <= TOLERANCE, `MC-dropout inference: probability ${p}, entropy ${e}`);
  const spread = Math.max(...r.cpu.probability) - Math.min(...r.cpu.probability);
  assert.ok(spread > 1e-3, `the prediction is not flat (${spread})`);
});
