import type { CatalogueEntry } from '@impartial/shared/protocol';
import { html } from 'lit';

export type CatalogueSort = 'uses' | 'recent' | 'name';

export interface CatalogueQuery {
  q: string;
  tag: string;
  author: string;
  /** Only models that read as many channels as this image has. */
  sameChannels: boolean;
  sort: CatalogueSort;
}

export interface CatalogueView {
  entries: CatalogueEntry[];
  query: CatalogueQuery;
  /** Object URLs of the entries' covers, by entry id. */
  covers: Record<string, string>;
  message: string;
  /** The project's current model version (what Publish publishes). */
  current: string | null;
  /** The current version's entry, when it is published already. */
  published: string | null;
}

export interface PublishForm {
  name: string;
  description: string;
  license: string;
  cite: string;
  tags: string;
  visibility: 'private' | 'group' | 'everyone';
}

export interface CatalogueActions {
  search(query: Partial<CatalogueQuery>): void;
  /** Copies it into the project as the current model and predicts with it. */
  use(entry: string): void;
  /** Copies it in and trains on from it with this image's strokes. */
  fineTune(entry: string): void;
  publish(form: PublishForm): void;
}

const fieldValue = (e: Event) => (e.target as HTMLInputElement | HTMLSelectElement).value;

function filters(v: CatalogueView, act: CatalogueActions) {
  const q = v.query;
  const sorts: CatalogueSort[] = ['uses', 'recent', 'name'];
  return html`<div class="row"><input class="search" type="search" placeholder="search models" .value=${q.q}
      @change=${(e: Event) => act.search({ q: fieldValue(e) })}></div>
    <div class="row"><input class="tag" placeholder="tag" .value=${q.tag} @change=${(e: Event) =>
      act.search({ tag: fieldValue(e) })}>
      <input class="author" placeholder="author" .value=${q.author} @change=${(e: Event) =>
        act.search({ author: fieldValue(e) })}></div>
    <div class="row"><label><input type="checkbox" class="same-channels" .checked=${q.sameChannels}
      @change=${(e: Event) => act.search({ sameChannels: (e.target as HTMLInputElement).checked })}>
      this image's channels</label>
      <select class="sort" title="sort" @change=${(e: Event) => act.search({ sort: fieldValue(e) as CatalogueSort })}>
        ${sorts.map((s) => html`<option value=${s} ?selected=${q.sort === s}>by ${s}</option>`)}</select></div>`;
}

function entryCard(e: CatalogueEntry, v: CatalogueView, act: CatalogueActions) {
  const authors = e.lineage.authors.join(', ');
  const uses = `${e.uses.inference} predictions, ${e.uses.fineTunes} fine-tunes by ${e.uses.users} user(s)`;
  return html`<div class="entry" data-entry=${e.id}>
    ${v.covers[e.id] ? html`<img class="cover" src=${v.covers[e.id]} alt="cover of ${e.name}">` : ''}
    <div><b>${e.name}</b> v${e.version}</div>
    <small>${e.channels.map((c) => c.name).join(', ')} · by ${authors} · ${e.license}<br>${uses}${
      e.tags.length ? html`<br>${e.tags.join(', ')}` : ''
    }</small>
    <div class="row"><button class="use" @click=${() => act.use(e.id)}>Use</button>
      <button class="fine-tune" @click=${() => act.fineTune(e.id)}>Fine-tune</button></div></div>`;
}

function publishForm(v: CatalogueView, act: CatalogueActions) {
  if (!v.current) return '';
  if (v.published) return html`<small>The current model is published (${v.published}).</small>`;
  const submit = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const text = (k: string) => String(f.get(k) ?? '').trim();
    act.publish({
      name: text('name'),
      description: text('description'),
      license: text('license'),
      cite: text('cite'),
      tags: text('tags'),
      visibility: text('visibility') as PublishForm['visibility'],
    });
  };
  return html`<details class="publish"><summary>Publish the current model</summary><form @submit=${submit}>
    <input name="name" placeholder="name (5-128 letters, digits, spaces)" required>
    <input name="description" placeholder="what it segments" required>
    <input name="license" value="CC-BY-4.0" title="SPDX licence id" required>
    <input name="cite" placeholder="cite as: text; DOI or URL" required>
    <input name="tags" placeholder="tags, comma separated">
    <select name="visibility"><option value="everyone">everyone</option><option value="group">my group</option>
      <option value="private">only me</option></select>
    <button type="submit">Publish</button></form></details>`;
}

/** The bridge's model catalogue: search and filter, use or fine-tune a published model, publish the current one. */
export function cataloguePanel(v: CatalogueView, act: CatalogueActions) {
  return html`<details class="catalogue"><summary>Shared models</summary>
    ${filters(v, act)}
    <div class="entries">${
      v.entries.length ? v.entries.map((e) => entryCard(e, v, act)) : html`<small>none found</small>`
    }</div>
    ${publishForm(v, act)}
    <div class="catalogue-message">${v.message}</div>
  </details>`;
}
