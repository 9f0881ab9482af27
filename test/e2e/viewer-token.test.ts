import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ImageRecord } from '@impartial/shared';
import type { Browser } from 'playwright-core';
import { projectWithImage, startTestBridge, type TestBridge } from '../helpers/bridge.js';
import { chromiumMissing, launchChromium } from '../helpers/browser.js';
import { viewerConnected, viewerSettled, waitInPage } from '../helpers/viewer-page.js';

const missing = process.env.CI ? undefined : chromiumMissing();

describe('the viewer page and its token', { skip: missing, timeout: 300_000 }, () => {
  let t: TestBridge;
  let browser: Browser;
  let image: ImageRecord;
  before(async () => {
    const absent = chromiumMissing();
    if (absent) throw new Error(`CI must run the browser tests: ${absent}`);
    t = await startTestBridge();
    image = await projectWithImage(t, 128, 9);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  /**
   * A page that records the Content-Security-Policy violations it sees, but zod's probe for eval (it
   * tries `new Function('')` once and, refused, validates without compiling: the policy allows no eval).
   */
  const watchedPage = async () => {
    const page = await browser.newPage({ viewport: { width: 900, height: 600 } });
    const violations: string[] = [];
    await page.exposeFunction('reportViolation', (v: string) => violations.push(v));
    await page.addInitScript(() =>
      document.addEventListener('securitypolicyviolation', (e) => {
        if (e.violatedDirective === 'script-src' && e.blockedURI === 'eval') return;
        (window as unknown as { reportViolation(v: string): void }).reportViolation(
          `${e.violatedDirective} ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`,
        );
      }),
    );
    return { page, violations };
  };

  it('takes the token out of the address bar, and works after a reload', async () => {
    const { page, violations } = await watchedPage();
    await page.goto(`${t.bridge.viewerUrl}?image=${image.id}&name=reloader`);
    await viewerConnected(page, 'the viewer to connect');
    assert.equal(page.url(), `${t.bridge.url}/viewer/?image=${image.id}&name=reloader`, 'no token in the address');
    assert.doesNotMatch(page.url(), new RegExp(t.bridge.token!));
    await viewerSettled(page, 'the image before the reload');

    await page.reload();
    await viewerConnected(page, 'the viewer to connect again after a reload');
    assert.equal(page.url(), `${t.bridge.url}/viewer/?image=${image.id}&name=reloader`);
    await viewerSettled(page, 'the image after the reload');
    const links = await page.locator('nav a').allTextContents();
    assert.ok(
      links.some((l) => l.startsWith('img9')),
      `the image list loads with the kept token: ${links.join(', ')}`,
    );
    assert.deepEqual(violations, [], 'the page policy blocks nothing the viewer needs');
    await page.goBack();
    assert.equal(page.url(), 'about:blank', 'the address with the token is not in the history either');
  });

  it('takes a ?token= out of the address too', async () => {
    const { page, violations } = await watchedPage();
    await page.goto(`${t.bridge.url}/viewer/?token=${encodeURIComponent(t.bridge.token!)}&image=${image.id}`);
    await viewerConnected(page, 'the viewer given ?token= to connect');
    assert.equal(page.url(), `${t.bridge.url}/viewer/?image=${image.id}`);
    assert.deepEqual(violations, []);
  });

  it('says what to open when a tab has no token', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${t.bridge.url}/viewer/?image=${image.id}`);
    await waitInPage(page, () => /needs its token/.test(document.getElementById('images')?.textContent ?? ''), null, {
      timeoutMs: 30_000,
      what: 'the page to say that it needs the token',
    });
    await context.close();
  });
});
