import { randomUUID } from 'node:crypto';
import { probabilityToInstances } from '@impartial/shared';
import { z } from 'zod';
import { filterAsync } from '../async-filter.js';
import { ImpartialError } from '../errors.js';
import { parseInput as parse } from '../http/input.js';
import { readMultipart } from '../http/multipart.js';
import { readBody, readJson, sendJson } from '../http/respond.js';
import type { RouteContext, Router } from '../http/router.js';
import type { Actor, StoredImage } from '../services/index.js';
import { type MonaiApp, monaiTimestamp, type TaskRecord } from './app.js';
import { type InferResult, impartialJson, sendInferAnswer } from './infer-answer.js';
import { parseParams } from './params.js';

const InferParams = z
  .object({
    threshold: z.number().min(0).max(1).optional(),
    save_label: z.boolean().optional(),
    label_tag: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .optional(),
    passes: z.number().int().min(1).max(32).optional(),
    dropout: z.boolean().optional(),
    tile: z.number().int().min(64).max(2048).optional(),
  })
  .passthrough();
type InferParams = z.infer<typeof InferParams>;

/** Images larger than this are answered from the OME-Zarr predictions, not as one label image. */
const MAX_ANSWER_PIXELS = 8192 * 8192;

/** The infer params: a multipart `params` field (MONAI's way), a JSON body, or none. */
async function inferParams(c: RouteContext, tempDir: string): Promise<InferParams> {
  const type = c.req.headers['content-type'] ?? '';
  if (type.startsWith('multipart/form-data')) {
    const form = await readMultipart(c.req, tempDir, 64 * 1024 * 1024);
    await form.cleanup();
    return parse(InferParams, form.fields.params ? parseParams(form.fields.params, 'params') : {}, 'params');
  }
  if (type.startsWith('application/json')) return parse(InferParams, await readJson(c.req, 1024 * 1024), 'params');
  await readBody(c.req, 1024 * 1024);
  return {};
}

/** POST /infer/impartial_N (one image, waited for) and /batch/infer/impartial_N (every image, in the background). */
export function registerMonaiInference(router: Router, app: MonaiApp, tempDir: string): void {
  const { services } = app;

  /** Predicts one image with the impartial_N model and cuts its instances. */
  const inferImage = async (actor: Actor, image: StoredImage, name: string, p: InferParams): Promise<InferResult> => {
    const id = await app.monaiId(image);
    const channels = await app.channelsOf(actor, name);
    if (image.channels !== channels) {
      throw new ImpartialError('bad-request', `image ${id} has ${image.channels} channels; ${name} reads ${channels}`);
    }
    if (image.width * image.height > MAX_ANSWER_PIXELS) {
      throw new ImpartialError(
        'too-large',
        `image ${id} is too large for one answer; use the bridge's OME-Zarr predictions`,
      );
    }
    const model = await app.model(actor, name);
    const request = {
      image: image.id,
      model: model.id,
      ...(p.passes ? { passes: p.passes } : {}),
      ...(p.dropout ? { dropout: true } : {}),
      ...(p.tile ? { tile: p.tile } : {}),
    };
    const job = await services.inference.wait(actor, (await services.inference.start(actor, request)).id);
    if (job.status !== 'done') {
      const why = `inference ${job.status}${job.error ? `: ${job.error}` : ''}`;
      throw new ImpartialError(job.status === 'cancelled' ? 'conflict' : 'internal', why);
    }
    const maps = await services.predictions.maps(actor, image.id, model.id);
    const threshold = p.threshold ?? maps.instances.threshold;
    const labels = probabilityToInstances(
      { width: maps.width, height: maps.height, data: maps.probability },
      { ...maps.instances, threshold },
    );
    let sum = 0;
    for (const v of maps.entropy) sum += v;
    const params = {
      cells: labels.count,
      mean_entropy: sum / maps.entropy.length,
      threshold,
      model: model.id,
      width: image.width,
      height: image.height,
    };
    const result = {
      name: id,
      width: image.width,
      height: image.height,
      labels: labels.data,
      entropy: maps.entropy,
      params,
    };
    if (p.save_label) {
      const tag = p.label_tag ?? 'original';
      const bytes = new TextEncoder().encode(JSON.stringify(impartialJson(result)));
      const { width: _w, height: _h, ...info } = params;
      await services.labels.put(actor, image.id, tag, '.json', bytes, { ...info, name: `${id}.json` });
    }
    return result;
  };

  router.on('POST', '/infer/:model', async (c) => {
    const actor = app.actor(c.actor);
    const params = await inferParams(c, tempDir);
    const image = await app.image(actor, c.url.searchParams.get('image'));
    const result = await inferImage(actor, image, c.params.model!, params);
    (await app.tasks(actor)).logs.add(
      `infer ${c.params.model} on ${await app.monaiId(image)}: ${result.params.cells} cells`,
    );
    sendInferAnswer(c.res, c.url.searchParams.get('output'), result);
  });

  const batchRecord = async (c: RouteContext) => {
    const { batch } = await app.tasks(app.actor(c.actor));
    const running = c.url.searchParams.get('check_if_running') === 'true' && batch?.status !== 'RUNNING';
    if (!batch || running) throw new ImpartialError('not-found', 'no batch inference task');
    sendJson(c.res, 200, c.url.searchParams.get('all') === 'true' ? [batch] : batch);
  };
  const stopBatch = async (c: RouteContext) => {
    const actor = app.actor(c.actor);
    const tasks = await app.tasks(actor);
    if (tasks.batch?.status === 'RUNNING') {
      tasks.batchStop = true;
      for (const j of await services.jobs.active(actor))
        if (j.kind === 'infer' && j.project === tasks.project) await services.jobs.cancel(actor, j.id);
    }
    sendJson(c.res, 200, tasks.batch);
  };
  for (const p of ['/batch/infer', '/batch/infer/']) router.on('GET', p, batchRecord).on('DELETE', p, stopBatch);

  router.on('POST', '/batch/infer/:model', async (c) => {
    const actor = app.actor(c.actor);
    const channels = await app.channelsOf(actor, c.params.model!);
    const params = parse(InferParams, await readJson(c.req, 1024 * 1024), 'params');
    const tasks = await app.tasks(actor);
    if (tasks.batch?.status === 'RUNNING') throw new ImpartialError('busy', 'a batch inference is already running');
    const which = c.url.searchParams.get('images') ?? 'all';
    if (!['all', 'labeled', 'unlabeled'].includes(which)) {
      throw new ImpartialError('bad-request', 'images must be all, labeled or unlabeled');
    }
    const images = await filterAsync(
      await app.images(actor),
      async (i) =>
        i.channels === channels && (which === 'all' || (which === 'labeled') === (await app.labelled(actor, i))),
    );
    const task: TaskRecord = {
      id: randomUUID(),
      status: 'RUNNING',
      request: { model: c.params.model, images: which, ...params },
      start_ts: monaiTimestamp(),
      end_ts: '',
      details: [],
    };
    tasks.batch = task;
    tasks.batchStop = false;
    const save = { save_label: params.save_label ?? true, label_tag: params.label_tag ?? 'original' };
    void (async () => {
      for (const [k, image] of images.entries()) {
        // Stopped, or its work session ended (or the account lost access): the rest is not run.
        if (tasks.batchStop || !(await app.stillCurrent(actor, tasks.project))) {
          task.status = 'STOPPED';
          break;
        }
        const head = `${k + 1}/${images.length} ${await app.monaiId(image)}`;
        try {
          const { params: out } = await inferImage(actor, image, c.params.model!, { ...params, ...save });
          task.details.push(`${head}: ${out.cells} cells`);
        } catch (e) {
          task.details.push(`${head}: ${(e as Error).message}`);
          if (!tasks.batchStop) task.status = 'ERROR';
        }
        if (task.details.length > 20) task.details.splice(0, task.details.length - 20);
      }
      if (task.status === 'RUNNING') task.status = 'DONE';
      task.end_ts = monaiTimestamp();
      tasks.logs.add(`batch infer ${task.id}: ${task.status} (${images.length} images)`);
    })();
    sendJson(c.res, 200, task);
  });
}
