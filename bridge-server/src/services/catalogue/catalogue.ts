import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type CatalogueEntry,
  type CatalogueQuery,
  MODEL_JSON,
  type ModelLineage,
  type ModelRecord,
  newId,
  type PublishRequest,
} from '@impartial/shared';
import { encodeNpy } from '@impartial/shared/packaging';
import { filterAsync } from '../../async-filter.js';
import { licenceIds } from '../../bioimageio/schema.js';
import { badRequest, conflict, forbidden, notFound } from '../../errors.js';
import { coverAndSample } from '../../imaging/model-cover.js';
import type { StoredEntry } from '../../store/tables/catalogue.js';
import type { Actor } from '../actor.js';
import type { ServiceContext } from '../context.js';
import { copyModelFiles, type ModelService } from '../models.js';
import type { Scope } from '../scope.js';

/** Files of a published version: its weights as trained, and the cover and sample cut at publishing. */
export const ENTRY_FILES = { cover: 'cover.png', sample: 'sample.npy' } as const;

type Full = CatalogueEntry & StoredEntry;

/** An entry as clients see it: the group by name, no account ids. */
export async function publicEntry(store: ServiceContext['store'], e: Full): Promise<CatalogueEntry> {
  const { publisherId: _p, groupId, ...rest } = e;
  return { ...rest, group: groupId ? ((await store.groups.find(groupId))?.name ?? null) : null };
}

/**
 * The bridge's model catalogue: publishing a model version (immutable; a new version supersedes
 * it), browsing what the actor may see, and copying a published model into a project to predict
 * with or fine-tune. Credit: every entry names everyone who trained along its chain and counts
 * its uses (see credit.ts).
 */
export class CatalogueService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly scope: Scope,
    private readonly models: ModelService,
  ) {}

  async publish(actor: Actor, modelId: string, body: PublishRequest): Promise<CatalogueEntry> {
    const { store } = this.ctx;
    const model = await this.scope.model(actor, modelId, 'write');
    const project = await store.projects.get(model.project);
    const already = await store.catalogue.byModel(model.id);
    if (already)
      throw conflict(`model version ${model.id} is already published (entry ${already}); train on and publish that`);
    const copied = model.catalogue ? await store.catalogue.find(model.catalogue) : null;
    if (copied && copied.model === model.parent) {
      throw conflict(`model version ${model.id} is a copy of catalogue entry ${copied.id}: fine-tune it, then publish`);
    }
    if (!licenceIds().has(body.license)) {
      throw badRequest(
        `license ${JSON.stringify(body.license)} is not an SPDX licence id (e.g. CC-BY-4.0, MIT, Apache-2.0)`,
      );
    }
    const channels = body.channels ?? model.channels.map((name) => ({ name, description: '' }));
    if (channels.length !== model.channels.length) {
      throw badRequest(`channels: the model reads ${model.channels.length} channels, ${channels.length} described`);
    }
    const previous = body.supersedes ? await this.visible(actor, body.supersedes) : null;
    if (previous && !this.ctx.access.mayChange(actor, previous)) {
      throw forbidden(`only the publisher of ${previous.id} (${previous.publisher}) may publish its next version`);
    }
    if (previous?.supersededBy)
      throw conflict(`catalogue entry ${previous.id} is already superseded by ${previous.supersededBy}`);
    const groupId = body.visibility === 'group' ? await this.groupFor(actor, body.group, project.group ?? null) : null;
    const lineageAuthors = model.authors ?? [model.author];
    const parentEntry = model.catalogue ?? null;
    const images = await store.images.list(project.id);
    const strokeCounts = (
      await Promise.all(images.map(async (i) => (await this.ctx.strokes.drawings(i.id)).length))
    ).filter((n) => n > 0);
    const id = newId('c');
    const entry: StoredEntry = {
      id,
      series: previous?.series ?? id,
      version: previous ? previous.version + 1 : 1,
      model: model.id,
      name: body.name,
      description: body.description,
      authors:
        body.authors ??
        (await Promise.all(
          lineageAuthors.map(async (name) => ({
            name,
            ...((await store.users.findByName(name)) ? { account: name } : {}),
          })),
        )),
      license: body.license,
      cite: body.cite,
      tags: [...new Set(body.tags)],
      channels: channels.map((c) => ({ name: c.name, description: c.description ?? '' })),
      training: {
        images: strokeCounts.length,
        strokes: strokeCounts.reduce((a, b) => a + b, 0),
        steps: model.steps,
        seconds: model.trainSeconds,
        metrics: model.metrics,
      },
      lineage: { parent: parentEntry, authors: lineageAuthors },
      visibility: body.visibility,
      group: null,
      publisher: actor.account?.name ?? actor.name,
      publisherId: actor.account?.id ?? actor.name,
      groupId,
      created: new Date().toISOString(),
      cover: false,
      supersedes: previous?.id ?? null,
    };
    const tmp = path.join(store.layout.temp, `${id}.publish`);
    try {
      await mkdir(tmp, { recursive: true });
      const from = await store.modelFolder(model.id);
      await copyModelFiles(from, tmp);
      const made = await coverAndSample(store, images, model.id);
      if (made) {
        await writeFile(path.join(tmp, ENTRY_FILES.cover), made.png);
        await writeFile(path.join(tmp, ENTRY_FILES.sample), encodeNpy(made.sample));
        entry.cover = true;
      }
      const dir = store.layout.catalogue(id);
      await mkdir(path.dirname(dir), { recursive: true });
      await rename(tmp, dir);
      await store.files.publish(dir);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
    try {
      await store.catalogue.add(entry);
    } catch (e) {
      await store.files.remove(store.layout.catalogue(id));
      throw e;
    }
    return this.get(actor, id);
  }

  /** The group a "group" entry is shared with: the one named (the actor must belong to it), else the project's. */
  private async groupFor(actor: Actor, name: string | undefined, projectGroup: string | null): Promise<string> {
    const { store } = this.ctx;
    if (!actor.account) throw badRequest('visibility "group" needs a multi-user bridge (serve --users)');
    if (name === undefined) {
      if (!projectGroup) throw badRequest('visibility "group": name the group (the project has none)');
      return projectGroup;
    }
    const group = await store.groups.findByName(name);
    if (!group || (!actor.account.admin && !(await store.groups.membership(group.id, actor.account.id)))) {
      throw badRequest(`group ${name}: not a group of ${actor.account.name}`);
    }
    return group.id;
  }

  private async visible(actor: Actor, id: string): Promise<Full> {
    const entry = await this.ctx.store.catalogue.find(id);
    if (!(await this.ctx.access.sees(actor, entry))) throw notFound(`catalogue entry ${id}`);
    return entry;
  }

  async get(actor: Actor, id: string): Promise<CatalogueEntry> {
    return publicEntry(this.ctx.store, await this.visible(actor, id));
  }

  /** What the actor may see, filtered and sorted; superseded versions only when asked for. */
  async list(actor: Actor, q: CatalogueQuery): Promise<CatalogueEntry[]> {
    const words = (q.q ?? '').toLowerCase().split(/\s+/).filter(Boolean);
    const author = q.author?.toLowerCase();
    const visible = await filterAsync(await this.ctx.store.catalogue.list(), (e) => this.ctx.access.sees(actor, e));
    const entries = visible
      .filter((e) => q.all === '1' || !e.supersededBy)
      .filter((e) => q.channels === undefined || e.channels.length === q.channels)
      .filter((e) => !q.tag || e.tags.includes(q.tag.toLowerCase()))
      .filter(
        (e) =>
          !author ||
          e.authors.some((a) => a.name.toLowerCase().includes(author) || a.account?.toLowerCase() === author) ||
          e.lineage.authors.some((a) => a.toLowerCase() === author),
      )
      .filter((e) => {
        const text = [
          e.name,
          e.description,
          ...e.tags,
          ...e.authors.map((a) => a.name),
          ...e.channels.map((c) => `${c.name} ${c.description}`),
        ]
          .join(' ')
          .toLowerCase();
        return words.every((w) => text.includes(w));
      });
    const uses = (e: Full) => e.uses.inference + e.uses.fineTunes;
    const order: Record<CatalogueQuery['sort'], (a: Full, b: Full) => number> = {
      uses: (a, b) => uses(b) - uses(a) || b.created.localeCompare(a.created),
      recent: (a, b) => b.created.localeCompare(a.created),
      name: (a, b) => a.name.localeCompare(b.name),
    };
    return Promise.all(entries.sort(order[q.sort]).map((e) => publicEntry(this.ctx.store, e)));
  }

  /** An entry's folder and the checked name of one of its files (the cover). */
  async file(actor: Actor, id: string, name: string): Promise<{ dir: string; name: string }> {
    const entry = await this.visible(actor, id);
    if (name !== ENTRY_FILES.cover || !entry.cover) throw notFound(`${name} of catalogue entry ${id}`);
    return { dir: await this.ctx.store.catalogueFolder(entry.id), name };
  }

  /** Copies a published model into a project as its current version, to predict with or fine-tune. */
  async use(actor: Actor, id: string, projectId: string): Promise<ModelRecord> {
    const entry = await this.visible(actor, id);
    return this.models.addFromCatalogue(actor, projectId, entry.id, await this.ctx.store.catalogueFolder(entry.id));
  }

  /** The folder and lineage of an entry, for a package. */
  async source(actor: Actor, id: string): Promise<{ entry: Full; dir: string; lineage: ModelLineage }> {
    const entry = await this.visible(actor, id);
    const dir = await this.ctx.store.catalogueFolder(entry.id);
    const { lineage } = JSON.parse(await readFile(path.join(dir, MODEL_JSON), 'utf8')) as { lineage: ModelLineage };
    return { entry, dir, lineage };
  }
}
