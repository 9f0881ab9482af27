import type { CatalogueEntry, ModelRecord } from '@impartial/shared/protocol';
import type { BridgeClient } from '../bridge-client.js';
import type { CatalogueActions, CatalogueView, PublishForm } from '../panels/catalogue.js';

/** What the catalogue panel reads and changes on the element. */
export interface CatalogueTarget {
  readonly client: BridgeClient | null;
  catalogue: CatalogueView;
  /** The image's channel count (for "this image's channels"). */
  readonly channels: readonly unknown[];
  /** The project's current model version. */
  readonly currentModel: string | null;
  predict(): void;
  /** Starts a training from the current model with the training panel's budget. */
  fineTune(): void;
}

export const EMPTY_CATALOGUE: CatalogueView = {
  entries: [],
  query: { q: '', tag: '', author: '', sameChannels: true, sort: 'uses' },
  covers: {},
  message: '',
  current: null,
  published: null,
};

/** Loads what the bridge's catalogue holds for the panel, and carries out its buttons. */
export class CatalogueState {
  private generation = 0;

  constructor(private readonly v: CatalogueTarget) {}

  private set(patch: Partial<CatalogueView>): void {
    this.v.catalogue = { ...this.v.catalogue, ...patch };
  }

  /** Searches again with the panel's query (the newest search wins when answers cross). */
  async refresh(): Promise<void> {
    const client = this.v.client;
    if (!client) return;
    const { q, tag, author, sameChannels, sort } = this.v.catalogue.query;
    const params = new URLSearchParams({ sort });
    if (q) params.set('q', q);
    if (tag) params.set('tag', tag.toLowerCase());
    if (author) params.set('author', author);
    if (sameChannels && this.v.channels.length) params.set('channels', String(this.v.channels.length));
    const generation = ++this.generation;
    const current = this.v.currentModel;
    try {
      const entries = await client.rest<CatalogueEntry[]>('GET', `/api/catalogue?${params}`);
      if (generation !== this.generation) return;
      // Among those listed (a filtered-out one answers 409 "already published" when published again).
      const published = entries.find((e) => e.model === current)?.id ?? null;
      this.set({ entries, current, published });
      await this.loadCovers(entries);
    } catch (e) {
      this.set({ message: (e as Error).message });
    }
  }

  private async loadCovers(entries: CatalogueEntry[]): Promise<void> {
    const client = this.v.client!;
    const covers = { ...this.v.catalogue.covers };
    for (const e of entries) {
      if (!e.cover || covers[e.id]) continue;
      covers[e.id] = await client.objectUrl(`/api/catalogue/${e.id}/cover.png`).catch(() => '');
    }
    this.set({ covers });
  }

  /** Puts a published model into the image's project as its current version. */
  private async copyIn(entry: string): Promise<ModelRecord> {
    const client = this.v.client;
    if (!client?.project) throw new Error('not connected yet');
    return client.rest<ModelRecord>('POST', `/api/catalogue/${entry}/use`, { project: client.project });
  }

  actions(): CatalogueActions {
    const run = (what: string, work: () => Promise<void>) => {
      this.set({ message: `${what}...` });
      work().then(
        () => void this.refresh(),
        (e: Error) => this.set({ message: e.message }),
      );
    };
    return {
      search: (query) => {
        this.set({ query: { ...this.v.catalogue.query, ...query } });
        void this.refresh();
      },
      use: (entry) =>
        run('copying the model in', async () => {
          const model = await this.copyIn(entry);
          this.set({ message: `using ${model.id}: predicting` });
          this.v.predict();
        }),
      fineTune: (entry) =>
        run('copying the model in', async () => {
          const model = await this.copyIn(entry);
          this.set({ message: `fine-tuning ${model.id} on this image's strokes` });
          this.v.fineTune();
        }),
      publish: (form) => run('publishing', () => this.publish(form)),
    };
  }

  private async publish(form: PublishForm): Promise<void> {
    const client = this.v.client;
    const model = this.v.currentModel;
    if (!client || !model) throw new Error('no current model to publish');
    const [text, ref] = form.cite.split(';').map((s) => s.trim());
    const entry = await client.rest<CatalogueEntry>('POST', `/api/models/${model}/publish`, {
      name: form.name,
      description: form.description,
      license: form.license,
      cite: [{ text: text || form.cite, ...(ref?.startsWith('http') ? { url: ref } : ref ? { doi: ref } : {}) }],
      tags: form.tags
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
      visibility: form.visibility,
    });
    this.set({ message: `published as ${entry.id}` });
  }
}
