import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError, MODEL_JSON, MODEL_WEIGHTS, type ModelRecord, readZip } from '@impartial/shared';
import { zipSync } from 'fflate';
import { filterAsync } from '../async-filter.js';
import { ImpartialError } from '../errors.js';
import { readMultipart } from '../http/multipart.js';
import { readBody, sendBytes, sendJson } from '../http/respond.js';
import type { Router } from '../http/router.js';
import { attachment } from '../rest/index.js';
import type { Actor } from '../services/index.js';
import type { MonaiApp } from './app.js';

/** Model info, download (a zip of model.json + weights.bin) and upload; the next image to annotate. */
export function registerMonaiModels(router: Router, app: MonaiApp, tempDir: string): void {
  const { services } = app;
  const described = async (actor: Actor, model: ModelRecord) => ({
    checksum: await services.models.checksum(actor, model.id),
    modified_time: Math.floor(Date.parse(model.created) / 1000),
    version: model.id,
    parent: model.parent,
  });
  const fileOf = async (actor: Actor, model: ModelRecord, name: string) => {
    const { dir } = await services.models.file(actor, model.id, name);
    return new Uint8Array(await readFile(path.join(dir, name)));
  };

  router
    .on('GET', '/model/info/:model', async (c) => {
      const actor = app.actor(c.actor);
      const model = await app.model(actor, c.params.model!);
      const stats = { total_steps: model.steps, total_time: model.trainSeconds, ...model.metrics };
      sendJson(c.res, 200, { ...(await described(actor, model)), train_stats: stats });
    })
    .on('GET', '/model/:model', async (c) => {
      const actor = app.actor(c.actor);
      const model = await app.model(actor, c.params.model!);
      const zip = zipSync({
        [MODEL_JSON]: await fileOf(actor, model, MODEL_JSON),
        [MODEL_WEIGHTS]: await fileOf(actor, model, MODEL_WEIGHTS),
      });
      sendBytes(c.res, zip, 'application/zip', attachment(`${c.params.model}-${model.id}.zip`));
    })
    .on('PUT', '/model/:model', async (c) => {
      const actor = app.actor(c.actor);
      if (app.entryOf(c.params.model!)) {
        throw new ImpartialError(
          'conflict',
          `${c.params.model} is a published model: it is not replaced (upload impartial_N)`,
        );
      }
      const channels = await app.channelsOf(actor, c.params.model!);
      const form = await readMultipart(c.req, tempDir, 512 * 1024 * 1024);
      try {
        const part = form.files.file;
        if (!part) throw new ImpartialError('bad-request', 'the model goes in a multipart field named file');
        let files: Map<string, Uint8Array>;
        // The two files are found by their name in any folder: two of one name (a/model.json and
        // b/model.json) leave which is the model to a guess, so they are refused by name.
        const seen = new Map<string, string>();
        const accept = (name: string) => {
          const base = path.basename(name);
          if (base !== MODEL_JSON && base !== MODEL_WEIGHTS) return false;
          const other = seen.get(base);
          if (other !== undefined) {
            throw new ImpartialError(
              'bad-request',
              `${part.filename} holds ${base} twice (${other} and ${name}); zip one model: ` +
                `${MODEL_JSON} and ${MODEL_WEIGHTS} once each`,
            );
          }
          seen.set(base, name);
          return true;
        };
        try {
          // Only the two files are inflated, each within its cap: a small zip may hold gigabytes.
          files = readZip(new Uint8Array(await readFile(part.file)), {
            accept,
            maxEntries: 2,
            maxEntryBytes: 256 * 1024 * 1024,
            maxBytesOf: (name) => (path.basename(name) === MODEL_JSON ? 1024 * 1024 : Infinity),
            maxTotalBytes: 300 * 1024 * 1024,
            what: part.filename,
          });
        } catch (e) {
          if (!(e instanceof InputError)) throw e; // a LimitError answers 413, naming the entry and the cap
          const model = `a model is a zip of ${MODEL_JSON} and ${MODEL_WEIGHTS}`;
          throw new ImpartialError('bad-request', `${e.message}; ${model} (what GET /model/${c.params.model} gives)`, {
            cause: e,
          });
        }
        const byName = new Map([...files].map(([k, v]) => [path.basename(k), v]));
        const record = await services.models.addUploaded(actor, await app.project(actor), byName, channels);
        (await app.tasks(actor)).logs.add(`model ${record.id}: uploaded (was ${record.parent})`);
        sendJson(c.res, 200, await described(actor, record));
      } finally {
        await form.cleanup();
      }
    })
    .on('POST', '/activelearning/:strategy', async (c) => {
      const actor = app.actor(c.actor);
      const strategy = c.params.strategy!;
      await readBody(c.req, 1024 * 1024);
      const candidates = await filterAsync(await app.images(actor), async (i) => !(await app.labelled(actor, i)));
      if (candidates.length === 0) return sendJson(c.res, 200, {});
      const entropyOf = async (id: string) => (await services.predictions.latest(actor, id))?.meanEntropy ?? null;
      let pick = candidates[0]!;
      if (strategy === 'random') pick = candidates[Math.floor(Math.random() * candidates.length)]!;
      else if (strategy === 'entropy') {
        const entropies = new Map(
          await Promise.all(candidates.map(async (c) => [c.id, await entropyOf(c.id)] as const)),
        );
        pick = [...candidates].sort((a, b) => (entropies.get(b.id) ?? -1) - (entropies.get(a.id) ?? -1))[0]!;
      } else throw new ImpartialError('not-found', `strategy ${strategy} (choose random or entropy)`);
      const id = await app.monaiId(pick);
      const entropy = await entropyOf(pick.id);
      const path = `/datastore/image?image=${id}`;
      sendJson(c.res, 200, {
        id,
        weight: entropy,
        path,
        name: `${id}.tif`,
        mean_entropy: entropy,
        bridge_image: pick.id,
      });
    });
}
