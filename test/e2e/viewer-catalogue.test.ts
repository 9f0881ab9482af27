import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CatalogueEntry, ImageRecord, JobRecord, ModelRecord, ProjectRecord } from '@impartial/shared';
import type { Browser, Page } from 'playwright-core';
import { line, projectWithImage, startTestBridge, type TestBridge, TestClient } from '../helpers/bridge.js';
import { chromiumMissing, keepScreenshot, launchChromium } from '../helpers/browser.js';
import { waitInPage } from '../helpers/viewer-page.js';
import { waitFor } from '../helpers/wait.js';

/*
 * The viewer's "Shared models" panel in a real browser: the catalogue searched by tag, a published
 * model used on the image (copied in, predicted with) and fine-tuned on its strokes, and the result
 * published from the panel's form, its lineage naming the model it came from.
 */

const missing = process.env.CI ? undefined : chromiumMissing();
const TINY = { steps: 3, depth: 2, base: 4, batchSize: 2, patch: 32, init: 'scratch' as const };

type Viewer = HTMLElement & { prediction: { record: { model: string; status: string } } | null };

describe('<impartial-viewer> shared models panel', { skip: missing, timeout: 300_000 }, () => {
  let t: TestBridge;
  let browser: Browser;
  let page: Page;
  let image: ImageRecord;
  const entries: Record<string, CatalogueEntry> = {};
  const json = async <T>(p: string, init?: RequestInit): Promise<T> => {
    const r = await t.api(p, init);
    assert.ok(r.ok, `${p}: ${r.status} ${await r.clone().text()}`);
    return (await r.json()) as T;
  };
  const post = <T>(p: string, body: unknown) =>
    json<T>(p, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const waitJob = (id: string) =>
    waitFor(
      async () => {
        const j = await json<JobRecord>(`/api/jobs/${id}`);
        return j.status === 'running' || j.status === 'queued' ? null : j;
      },
      { timeoutMs: 120_000, what: `job ${id}` },
    );
  const inShadow = (selector: string) => page.locator('impartial-viewer').locator(selector);

  before(async () => {
    const absent = chromiumMissing();
    if (absent) throw new Error(`CI must run the browser tests: ${absent}`);
    t = await startTestBridge();
    // Two published models from another project, told apart by their tags.
    const source = await projectWithImage(t, 128, 3, 'src');
    const ws = await TestClient.join(t.bridge, source.id, 'annotator');
    ws.send({ type: 'draw', ref: 'fg', drawing: line(20, 20, 100, 100, 1, 4) });
    ws.send({ type: 'draw', ref: 'bg', drawing: line(100, 10, 120, 60, 2, 4) });
    await ws.next((m) => m.type === 'entry' && m.entry.seq === 2);
    ws.close();
    for (const tag of ['nuclei', 'membrane']) {
      const job = await waitJob((await post<JobRecord>('/api/projects/src/train', TINY)).id);
      const model = (job.result as { model: string }).model;
      await waitJob((await post<JobRecord>('/api/infer', { image: source.id, model, passes: 1 })).id);
      entries[tag] = await post<CatalogueEntry>(`/api/models/${model}/publish`, {
        name: `Lab ${tag} 2ch`,
        description: `${tag} of the lab's slides`,
        license: 'CC-BY-4.0',
        cite: [{ text: 'Lab (2026)', url: 'https://example.org/lab' }],
        tags: [tag],
        visibility: 'everyone',
      });
    }
    image = await projectWithImage(t, 128, 9, 'p2');
    const annotator = await TestClient.join(t.bridge, image.id, 'annotator');
    annotator.send({ type: 'draw', ref: 'fg', drawing: line(30, 30, 90, 90, 1, 4) });
    annotator.send({ type: 'draw', ref: 'bg', drawing: line(100, 10, 120, 60, 2, 4) });
    await annotator.next((m) => m.type === 'entry' && m.entry.seq === 2);
    annotator.close();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    // Fine-tunes of a few steps (the knobs' defaults train for a minute).
    await page.addInitScript(() => {
      customElements.whenDefined('impartial-viewer').then(() => {
        const v = document.querySelector('impartial-viewer') as unknown as { trainOptions: object };
        v.trainOptions = { steps: 2, batchSize: 2, patch: 32 };
      });
    });
    await page.goto(`${t.bridge.viewerUrl}?image=${image.id}&name=viewer`);
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('finds published models by tag, uses one on the image, fine-tunes it and publishes the result', async () => {
    await inShadow('details.catalogue > summary').click();
    await waitInPage(
      page,
      () => document.querySelector('impartial-viewer')?.shadowRoot?.querySelectorAll('.entry').length === 2,
      undefined,
      { timeoutMs: 30_000, what: 'both published models listed' },
    );
    await inShadow('details.catalogue input.tag').fill('membrane');
    await inShadow('details.catalogue input.tag').press('Enter');
    await waitInPage(
      page,
      (id) => {
        const cards = document.querySelector('impartial-viewer')?.shadowRoot?.querySelectorAll('.entry') ?? [];
        return cards.length === 1 && (cards[0] as HTMLElement).dataset.entry === id;
      },
      entries.membrane!.id,
      { timeoutMs: 30_000, what: 'only the membrane model' },
    );
    await waitInPage(
      page,
      () => !!document.querySelector('impartial-viewer')?.shadowRoot?.querySelector('.entry img.cover[src^="blob:"]'),
      undefined,
      { timeoutMs: 30_000, what: 'its cover' },
    );
    await keepScreenshot(page, 'viewer-catalogue');

    // Use: the model is copied into p2, made current and predicts the image.
    await inShadow('.entry button.use').click();
    const copy = await waitFor(
      async () => {
        const project = await json<ProjectRecord>('/api/projects/p2');
        const model = project.currentModel ? await json<ModelRecord>(`/api/models/${project.currentModel}`) : null;
        return model?.catalogue === entries.membrane!.id ? model : null;
      },
      { timeoutMs: 30_000, what: 'the published model copied into the project' },
    );
    assert.equal(copy.parent, entries.membrane!.model);
    await waitInPage(
      page,
      (id) => {
        const p = (document.querySelector('impartial-viewer') as unknown as Viewer).prediction;
        return p?.record.model === id && p.record.status === 'complete';
      },
      copy.id,
      { timeoutMs: 60_000, what: "the published model's prediction on the image" },
    );
    await waitFor(
      async () => (await json<CatalogueEntry>(`/api/catalogue/${entries.membrane!.id}`)).uses.inference === 1,
      {
        timeoutMs: 10_000,
        what: 'the inference credited',
      },
    );

    // Fine-tune: trained on from the copy with this image's strokes.
    await inShadow('.entry button.fine-tune').click();
    const tuned = await waitFor(
      async () => {
        const models = await json<ModelRecord[]>('/api/projects/p2/models');
        return (
          models.find((m) => m.steps > entries.membrane!.training.steps && m.catalogue === entries.membrane!.id) ?? null
        );
      },
      { timeoutMs: 120_000, what: 'the fine-tuned version' },
    );
    assert.equal((await json<CatalogueEntry>(`/api/catalogue/${entries.membrane!.id}`)).uses.fineTunes, 1);
    await waitFor(async () => (await json<ProjectRecord>('/api/projects/p2')).currentModel === tuned.id, {
      timeoutMs: 30_000,
      what: 'the fine-tune to be current',
    });

    // Publish it from the panel's form.
    await inShadow('details.publish > summary').click();
    await inShadow('details.publish input[name=name]').fill('Membrane 2ch tuned');
    await inShadow('details.publish input[name=description]').fill('membranes, tuned on p2');
    await inShadow('details.publish input[name=cite]').fill('P2 study; 10.5555/p2.2026');
    await inShadow('details.publish input[name=tags]').fill('membrane, tuned');
    await inShadow('details.publish button[type=submit]').click();
    const published = await waitFor(
      async () => (await json<CatalogueEntry[]>('/api/catalogue?tag=tuned')).find((e) => e.model === tuned.id) ?? null,
      { timeoutMs: 30_000, what: 'the fine-tune published' },
    );
    assert.equal(published.lineage.parent, entries.membrane!.id);
    assert.deepEqual(published.cite, [{ text: 'P2 study', doi: '10.5555/p2.2026' }]);
    await waitInPage(
      page,
      () =>
        /published as c/.test(
          document.querySelector('impartial-viewer')?.shadowRoot?.querySelector('.catalogue-message')?.textContent ??
            '',
        ),
      undefined,
      { timeoutMs: 10_000, what: 'the panel to say it is published' },
    );
  });
});
