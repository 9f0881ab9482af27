import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launchChromium } from '../test/dist/helpers/browser.js';
const dir = mkdtempSync(path.join(tmpdir(), 'look-'));
const child = spawn(process.execPath, ['bridge-server/bin/impartial.js', 'serve', '--demo', '--port', '0', '--data', path.join(dir, 'data')], { env: { ...process.env, IMPARTIAL_DEMO_SLIDE: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
let err = ''; child.stderr.on('data', (d) => { err += d; });
const url = await new Promise((r) => { const i = setInterval(() => { const m = /viewer: (http\S+)/.exec(err); if (m) { clearInterval(i); r(m[1]); } }, 200); });
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 850 } });
  await page.goto(url);
  await page.waitForTimeout(3000);
  const links = await page.locator('nav a').evaluateAll((as) => as.map((a) => [a.textContent, a.href]));
  console.log(links.map((l) => l[0]).join(' | '));
  const vectra = links.find((l) => /vectra-image0/.test(l[0])) ?? links[0];
  await page.goto(vectra[1]);
  await page.waitForFunction(() => /saved/.test(document.querySelector('impartial-viewer')?.shadowRoot?.querySelector('.status')?.textContent ?? ''), null, { timeout: 30000 });
  // Scribbles via the API-like client: a few synthetic strokes drawn with the mouse would need cell positions; use the bridge's synthetic scribbles instead
  await page.evaluate(() => { const v = document.querySelector('impartial-viewer'); v.trainOptions = { init: 'generic' }; });
  await page.locator('impartial-viewer [name=budget]').fill('15');
  await page.screenshot({ path: '/tmp/prof/look-0.png' });
  const stroke = async (k, pts) => { await page.keyboard.press(k); await page.mouse.move(...pts[0]); await page.mouse.down(); for (const p of pts.slice(1)) await page.mouse.move(...p, { steps: 4 }); await page.mouse.up(); await page.waitForTimeout(200); };
  await page.locator('impartial-viewer').focus();
  for (const [x, y] of [[655, 120], [848, 185], [716, 157], [632, 627], [410, 530], [520, 328]]) await stroke('1', [[x - 5, y - 2], [x + 5, y + 2]]);
  await stroke('2', [[560, 250], [600, 280]]); await stroke('2', [[690, 450], [740, 470]]); await stroke('2', [[300, 380], [330, 420]]);
  await page.keyboard.press('h');
  await page.screenshot({ path: '/tmp/prof/look-0.png' });
  await page.getByRole('button', { name: 'Train' }).click();
  await page.waitForFunction(() => document.querySelector('impartial-viewer').prediction?.record.status === 'complete', null, { timeout: 120000 });
  await page.waitForTimeout(2000);
  await page.screenshot({ path: '/tmp/prof/look-1.png' });
} finally { await browser.close(); child.kill(); }
