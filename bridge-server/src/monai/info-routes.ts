import { DEFAULT_INSTANCE_OPTIONS, INFERENCE_DEFAULTS } from '@impartial/shared';
import { filterAsync } from '../async-filter.js';
import { sendBytes, sendJson } from '../http/respond.js';
import type { RouteContext, Router } from '../http/router.js';
import type { MonaiApp } from './app.js';
import { trainerConfig } from './train-routes.js';

/** GET /info/ (the app: models, trainers, strategies, datastore stats) and GET /logs/. */
export function registerMonaiInfo(router: Router, app: MonaiApp): void {
  const { services } = app;
  const info = async (c: RouteContext) => {
    const actor = app.actor(c.actor);
    const entries = await app.catalogue(actor);
    const names = await app.modelNames(actor, entries);
    const images = await app.images(actor);
    const labelled = await filterAsync(images, (i) => app.labelled(actor, i));
    const published = new Map(entries.map((e) => [`catalogue_${e.id}`, e]));
    const describe = (n: string) => {
      const e = published.get(n);
      if (!e) return `ImPartial U-Net for ${n.split('_')[1]}-channel images`;
      const authors = e.lineage.authors.join(', ');
      return `${e.name} v${e.version} (${e.channels.map((c) => c.name).join(', ')}; by ${authors}; ${e.license})`;
    };
    const model = (n: string) => ({
      type: 'segmentation',
      labels: ['Nuclei'],
      dimension: 2,
      description: describe(n),
      config: { threshold: DEFAULT_INSTANCE_OPTIONS.threshold, passes: INFERENCE_DEFAULTS.passes },
    });
    const trainer = (n: string) => ({
      description: published.has(n)
        ? `Fine-tune ${describe(n)} on the strokes and outlines of the datastore`
        : `Train ${n} from the strokes and outlines of the datastore`,
      config: trainerConfig(),
    });
    const stats = (await services.models.list(actor, await app.project(actor)))
      .slice(-1)
      .map((m) => [
        `impartial_${m.channels.length}`,
        { model: m.id, total_steps: m.steps, total_time: `${Math.round(m.trainSeconds)} s`, ...m.metrics },
      ]);
    sendJson(c.res, 200, {
      name: 'ImPartial',
      version: services.version,
      description:
        'ImPartial (scribble-supervised cell segmentation with blind-spot self-supervision) on the ImPartial bridge',
      labels: ['Nuclei'],
      models: Object.fromEntries(names.map((n) => [n, model(n)])),
      trainers: Object.fromEntries(names.map((n) => [n, trainer(n)])),
      strategies: {
        random: { description: 'a random image without final labels' },
        entropy: { description: 'the unlabelled image with the highest mean entropy' },
      },
      scoring: {},
      train_stats: Object.fromEntries(stats),
      datastore: { total: images.length, completed: labelled.length, label_tags: { final: labelled.length } },
    });
  };
  for (const p of ['/info', '/info/']) router.on('GET', p, info);
  for (const p of ['/logs', '/logs/']) {
    router.on('GET', p, async (c) => {
      const n = Math.min(5000, Math.max(1, Number(c.url.searchParams.get('lines') ?? 300) || 300));
      const { logs } = await app.tasks(app.actor(c.actor));
      sendBytes(c.res, `${logs.tail(n).join('\n')}\n`, 'text/plain; charset=utf-8');
    });
  }
}
