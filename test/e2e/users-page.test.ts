import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Services } from '@impartial/bridge-server';
import type { Browser } from 'playwright-core';
import { startTestBridge, syntheticTiff, type TestBridge, TestClient } from '../helpers/bridge.js';
import { chromiumMissing, launchChromium } from '../helpers/browser.js';
import { viewerConnected, viewerSettled, waitInPage } from '../helpers/viewer-page.js';

const missing = process.env.CI ? undefined : chromiumMissing();

/*
 * The multi-user bridge's page in a real browser: sign in, start a work session, open its image in
 * the viewer, which signs in with the same cookie (no token in any address), and sign out.
 */
describe('the multi-user page and the viewer with its cookie', { skip: missing, timeout: 300_000 }, () => {
  let t: TestBridge;
  let browser: Browser;
  before(async () => {
    const absent = chromiumMissing();
    if (absent) throw new Error(`CI must run the browser tests: ${absent}`);
    t = await startTestBridge({ users: {} });
    await (t.bridge.services.accounts as NonNullable<Services['accounts']>).addUser('alice', 'alice-password-1');
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('signs in, starts a session, opens its image in the viewer by cookie, and signs out', async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    const violations: string[] = [];
    await page.exposeFunction('reportViolation', (v: string) => violations.push(v));
    await page.addInitScript(() =>
      document.addEventListener('securitypolicyviolation', (e) => {
        if (e.violatedDirective === 'script-src' && e.blockedURI === 'eval') return;
        (window as unknown as { reportViolation(v: string): void }).reportViolation(`${e.violatedDirective}`);
      }),
    );
    await page.goto(`${t.bridge.url}/`);
    await page.locator('#signin-form input[name=password]').waitFor();
    await page.fill('#signin-form input[name=name]', 'alice');
    await page.fill('#signin-form input[name=password]', 'not her password');
    await page.click('#signin-form button');
    await waitInPage(
      page,
      () => /wrong user name or password/.test(document.getElementById('error')!.textContent!),
      0,
      {
        timeoutMs: 10_000,
        what: 'the page to say the password is wrong',
      },
    );
    await page.fill('#signin-form input[name=password]', 'alice-password-1');
    await page.click('#signin-form button');
    await page.locator('#me', { hasText: 'alice' }).waitFor({ timeout: 10_000 });
    const cookie = (await page.context().cookies()).find((c) => c.name === 'impartial_session')!;
    assert.ok(cookie.httpOnly, 'the session cookie is HttpOnly');
    assert.equal(cookie.sameSite, 'Strict');

    await page.click('button[data-action=new-session]');
    await page.locator('#sessions td', { hasText: 'running' }).waitFor({ timeout: 10_000 });
    // An image in the session's project (uploaded as a script would, with a personal token).
    const token = await page.evaluate(async () => {
      const r = await fetch('/api/me/tokens', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ label: 'upload' }),
      });
      return ((await r.json()) as { token: string }).token;
    });
    const projects = (await (
      await fetch(`${t.bridge.url}/api/projects`, { headers: { Authorization: `Bearer ${token}` } })
    ).json()) as Array<{ id: string }>;
    const r = await fetch(`${t.bridge.url}/api/projects/${projects[0]!.id}/images?name=cells`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'image/tiff' },
      body: Buffer.from(syntheticTiff(128, 4).bytes),
    });
    assert.equal(r.status, 201);
    await page.reload();
    await page.click('#projects a', { timeout: 10_000 });
    await viewerConnected(page, 'the viewer to connect with the cookie');
    await viewerSettled(page, 'the image drawn in the viewer');
    assert.match(page.url(), /\/viewer\/\?image=i/);
    assert.doesNotMatch(page.url(), /token|\/t\//, 'no token in the address');
    // A script of alice's joins the image under another name: the viewer shows her (by account name).
    const imageId = new URL(page.url()).searchParams.get('image')!;
    /** Whether the viewer's line of who else is here reads `text` ('' when it shows none). */
    const othersAre = (text: string) =>
      (document.querySelector('impartial-viewer') as HTMLElement).shadowRoot!.querySelector('.others')?.textContent ===
      (text || undefined);
    await waitInPage(page, othersAre, '', { timeoutMs: 10_000, what: 'the viewer alone on the image, naming no one' });
    const script = await TestClient.join(t.bridge, imageId, 'a made-up name', undefined, {
      Authorization: `Bearer ${token}`,
    });
    await waitInPage(page, othersAre, 'also here: alice', {
      timeoutMs: 10_000,
      what: 'the viewer to show who else is on the image',
    });
    script.close();
    await waitInPage(page, othersAre, '', { timeoutMs: 10_000, what: 'the viewer to show that the script left' });

    await page.goto(`${t.bridge.url}/`);
    await page.click('button[data-action=logout]');
    await page.locator('#signin-form').waitFor({ state: 'visible', timeout: 10_000 });
    const after = await page.evaluate(async () => (await fetch('/api/me')).status);
    assert.equal(after, 401, 'signed out');
    assert.deepEqual(violations, [], 'the page policy blocks nothing the pages need');
  });
});
