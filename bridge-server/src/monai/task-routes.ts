import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  DEFAULT_INSTANCE_OPTIONS,
  type JobRecord,
  MODEL_JSON,
  MODEL_WEIGHTS,
  openArray,
  probabilityToInstances,
  readRegion,
  type ServerMessage,
} from '@impartial/shared';
import { FileSystemStore } from '@impartial/shared/node';
import { unzipSync, zipSync } from 'fflate';
import { z } from 'zod';
import { parseInput as parse } from '../http/input.js';
import { readMultipart } from '../http/multipart.js';
import { readBody, readJson, sendBytes, sendJson } from '../http/respond.js';
import type { RouteContext, Router } from '../http/router.js';
import { BridgeError } from '../store/errors.js';
import { MAX_EXPORT_PIXELS } from '../store/exports.js';
import type { StoredImage } from '../store/store.js';
import { type MonaiApp, monaiTimestamp, type TaskRecord } from './app.js';
import { parseParams } from './datastore-routes.js';
import { saveLabelFile } from './roi-labels.js';

const InferParams = z
  .object({
    threshold: z.number().min(0).max(1).optional(),
    save_label: z.boolean().optional(),
    label_tag: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .optional(),
    passes: z.number().int().min(1).max(32).optional(),
    tile: z.number().int().min(64).max(2048).optional(),
  })
  .passthrough();
type InferParams = z.infer<typeof InferParams>;

const TrainParams = z
  .object({
    max_epochs: z.number().int().min(1).max(100_000).default(10),
    npatches_epoch: z.number().int().min(1).max(1_000_000).default(200),
    early_stop_patience: z.number().int().optional(),
    steps: z.number().int().positive().optional(),
    seconds: z.number().positive().optional(),
    batch_size: z.number().int().min(1).max(64).optional(),
    patch: z.number().int().min(16).max(512).optional(),
    depth: z.number().int().min(1).max(6).optional(),
    base: z.number().int().min(2).max(128).optional(),
    learning_rate: z.number().positive().max(1).optional(),
    init: z.enum(['current', 'generic', 'scratch']).optional(),
  })
  .passthrough();

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

/** A 2-D array as [row][column] (H outer, W inner), as numpy's tolist() gives it. */
function rows(data: ArrayLike<number>, width: number, height: number, digits?: number): number[][] {
  const f = digits === undefined ? (v: number) => v : (v: number) => Math.round(v * 10 ** digits) / 10 ** digits;
  return Array.from({ length: height }, (_, y) => Array.from({ length: width }, (_, x) => f(data[y * width + x]!)));
}

/** Waits for a job of the bridge to finish. */
const finished = (app: MonaiApp, job: JobRecord) => app.ctx.jobs.waitFor(job.id);

export function registerMonaiTasks(router: Router, app: MonaiApp): void {
  const { store, jobs } = app.ctx;
  const q = (c: RouteContext, name: string) => c.url.searchParams.get(name);

  // Training progress as MONAI's log lines, which the Fiji plugin parses ("Epoch: k/M ... train_loss: x").
  let stepsPerEpoch = 1,
    epochs = 1;
  jobs.subscribe((m: ServerMessage) => {
    const t = app.train;
    if (!t || !app.trainJob) return;
    if (m.type === 'train-progress' && m.job === app.trainJob) {
      const epoch = Math.min(epochs, Math.floor((m.step - 1) / stepsPerEpoch) + 1),
        iter = ((m.step - 1) % stepsPerEpoch) + 1;
      t.status = 'RUNNING';
      t.details.push(`Epoch: ${epoch}/${epochs}, Iter: ${iter}/${stepsPerEpoch} -- train_loss: ${m.loss.toFixed(4)}`);
      if (t.details.length > 20) t.details.splice(0, t.details.length - 20);
    } else if (m.type === 'job' && m.job.id === app.trainJob && !['running', 'queued'].includes(m.job.status)) {
      t.status = m.job.status === 'done' ? 'DONE' : m.job.status === 'cancelled' ? 'STOPPED' : 'ERROR';
      t.end_ts = monaiTimestamp();
      t.result = { model: m.job.result?.model ?? null, steps: m.job.result?.steps ?? null };
      t.details.push(
        m.job.error
          ? `error: ${m.job.error}`
          : `training ${t.status.toLowerCase()}: model version ${String(m.job.result?.model ?? 'none')}`,
      );
      app.logs.add(`train ${t.id}: ${t.status}`);
    }
  });

  /** Predicts one image with the impartial_N model and returns the ImPartial JSON answer. */
  const inferImage = async (
    image: StoredImage,
    channels: number,
    params: InferParams,
  ): Promise<{ json: Record<string, unknown>; job: JobRecord }> => {
    if (image.channels !== channels)
      throw new BridgeError(
        'bad-request',
        `image ${app.monaiId(image)} has ${image.channels} channels; impartial_${channels} reads ${channels}`,
      );
    if (image.width * image.height > MAX_EXPORT_PIXELS)
      throw new BridgeError(
        'too-large',
        `image ${app.monaiId(image)} is too large for a JSON answer; use the bridge's OME-Zarr predictions`,
      );
    const model = await app.model(channels);
    const job = await finished(
      app,
      jobs.startInfer({
        image: image.id,
        model: model.id,
        ...(params.passes ? { passes: params.passes } : {}),
        ...(params.tile ? { tile: params.tile } : {}),
      }),
    );
    if (job.status !== 'done')
      throw new BridgeError(
        job.status === 'cancelled' ? 'conflict' : 'internal',
        `inference ${job.status}${job.error ? `: ${job.error}` : ''}`,
      );
    const zarr = new FileSystemStore(store.layout.prediction(image.id, model.id));
    const level0 = await openArray(zarr, '0');
    const probability = (await readRegion(level0, 0, 0, image.width, image.height, 0)) as Float32Array;
    const entropy = await readRegion(level0, 0, 0, image.width, image.height, 1);
    const saved = JSON.parse(await readFile(path.join(store.layout.model(model.id), MODEL_JSON), 'utf8')) as {
      lineage: { instances?: object };
    };
    const threshold =
      params.threshold ??
      (saved.lineage.instances as { threshold?: number } | undefined)?.threshold ??
      DEFAULT_INSTANCE_OPTIONS.threshold;
    const labels = probabilityToInstances(
      { width: image.width, height: image.height, data: probability },
      { ...DEFAULT_INSTANCE_OPTIONS, ...saved.lineage.instances, threshold },
    );
    let sum = 0;
    for (let i = 0; i < entropy.length; i++) sum += entropy[i]!;
    const json = {
      output: rows(labels.data, image.width, image.height),
      entropy: rows(entropy, image.width, image.height, 6),
      metrics: {
        cells: labels.count,
        mean_entropy: sum / entropy.length,
        threshold,
        model: model.id,
        width: image.width,
        height: image.height,
      },
    };
    if (params.save_label) {
      const tag = params.label_tag ?? 'original';
      await saveLabelFile(app, image, tag, '.json', new TextEncoder().encode(JSON.stringify(json)), {
        model: model.id,
        threshold,
        cells: labels.count,
        mean_entropy: sum / entropy.length,
      });
    }
    return { json, job };
  };

  const info = (c: RouteContext) => {
    const names = app.modelNames();
    const trainerConfig = {
      max_epochs: 10,
      npatches_epoch: 200,
      early_stop_patience: 10,
      steps: null,
      seconds: null,
      batch_size: 4,
      patch: 128,
      depth: 3,
      base: 16,
      learning_rate: 5e-4,
      init: 'current',
    };
    const images = app.images();
    const labelled = images.filter((i) => app.labelled(i));
    sendJson(c.res, 200, {
      name: 'ImPartial',
      version: app.ctx.version,
      description:
        'ImPartial (scribble-supervised cell segmentation with blind-spot self-supervision) on the ImPartial bridge',
      labels: ['Nuclei'],
      models: Object.fromEntries(
        names.map((n) => [
          n,
          {
            type: 'segmentation',
            labels: ['Nuclei'],
            dimension: 2,
            description: `ImPartial U-Net for ${n.split('_')[1]}-channel images`,
            config: { threshold: DEFAULT_INSTANCE_OPTIONS.threshold, passes: 3 },
          },
        ]),
      ),
      trainers: Object.fromEntries(
        names.map((n) => [
          n,
          { description: `Train ${n} from the strokes and outlines of the datastore`, config: trainerConfig },
        ]),
      ),
      strategies: {
        random: { description: 'a random image without final labels' },
        entropy: { description: 'the unlabelled image with the highest mean entropy' },
      },
      scoring: {},
      train_stats: Object.fromEntries(
        store
          .models(app.project())
          .slice(-1)
          .map((m) => [
            `impartial_${m.channels.length}`,
            { model: m.id, total_steps: m.steps, total_time: `${Math.round(m.trainSeconds)} s`, ...m.metrics },
          ]),
      ),
      datastore: { total: images.length, completed: labelled.length, label_tags: { final: labelled.length } },
    });
  };

  const trainRecord = (c: RouteContext) => {
    const running = app.train && (app.train.status === 'RUNNING' || app.train.status === 'SUBMITTED');
    if (q(c, 'check_if_running') === 'true' && !running) throw new BridgeError('not-found', 'no training is running');
    if (!app.train) throw new BridgeError('not-found', 'no training task yet');
    sendJson(c.res, 200, q(c, 'all') === 'true' ? [app.train] : app.train);
  };

  const batchRecord = (c: RouteContext) => {
    if (!app.batch || (q(c, 'check_if_running') === 'true' && app.batch.status !== 'RUNNING'))
      throw new BridgeError('not-found', 'no batch inference task');
    sendJson(c.res, 200, q(c, 'all') === 'true' ? [app.batch] : app.batch);
  };

  for (const p of ['/info', '/info/']) router.on('GET', p, info);
  for (const p of ['/train', '/train/']) {
    router.on('GET', p, trainRecord).on('DELETE', p, (c) => {
      if (app.trainJob && app.train?.status === 'RUNNING') jobs.cancel(app.trainJob);
      sendJson(c.res, 200, app.train);
    });
  }
  for (const p of ['/batch/infer', '/batch/infer/']) {
    router.on('GET', p, batchRecord).on('DELETE', p, (c) => {
      if (app.batch?.status === 'RUNNING') {
        app.batchStop = true;
        for (const j of jobs.active()) if (j.kind === 'infer' && j.project === app.projectId) jobs.cancel(j.id);
      }
      sendJson(c.res, 200, app.batch);
    });
  }
  for (const p of ['/logs', '/logs/']) {
    router.on('GET', p, (c) => {
      const n = Math.min(5000, Math.max(1, Number(q(c, 'lines') ?? 300) || 300));
      sendBytes(c.res, `${app.logs.tail(n).join('\n')}\n`, 'text/plain; charset=utf-8');
    });
  }

  router
    .on('POST', '/infer/:model', async (c) => {
      const channels = app.channelsOf(c.params.model!);
      const params = await inferParams(c, store.layout.temp);
      const image = app.image(q(c, 'image'));
      const { json } = await inferImage(image, channels, params);
      app.logs.add(
        `infer ${c.params.model} on ${app.monaiId(image)}: ${(json.metrics as { cells: number }).cells} cells`,
      );
      const output = q(c, 'output') ?? 'image';
      if (output === 'image' || output === 'json') return sendJson(c.res, 200, json);
      if (output !== 'all')
        throw new BridgeError('bad-request', `output must be image, json or all, not ${output.slice(0, 20)}`);
      const boundary = `impartial${randomUUID().replace(/-/g, '')}`;
      const body = [
        `--${boundary}\r\nContent-Disposition: form-data; name="params"\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(json.metrics)}\r\n`,
        `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="${app.monaiId(image)}.json"\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(json)}\r\n`,
        `--${boundary}--\r\n`,
      ].join('');
      sendBytes(c.res, body, `multipart/form-data; boundary=${boundary}`);
    })
    .on('POST', '/batch/infer/:model', async (c) => {
      const channels = app.channelsOf(c.params.model!);
      const body = await readJson(c.req, 1024 * 1024);
      const params = parse(InferParams, body, 'params');
      if (app.batch?.status === 'RUNNING') throw new BridgeError('busy', 'a batch inference is already running');
      const which = q(c, 'images') ?? 'all';
      if (!['all', 'labeled', 'unlabeled'].includes(which))
        throw new BridgeError('bad-request', 'images must be all, labeled or unlabeled');
      const images = app
        .images()
        .filter((i) => i.channels === channels && (which === 'all' || (which === 'labeled') === app.labelled(i)));
      const task: TaskRecord = {
        id: randomUUID(),
        status: 'RUNNING',
        request: { model: c.params.model, images: which, ...params },
        start_ts: monaiTimestamp(),
        end_ts: '',
        details: [],
      };
      app.batch = task;
      app.batchStop = false;
      const save = { save_label: params.save_label ?? true, label_tag: params.label_tag ?? 'original' };
      void (async () => {
        for (const [k, image] of images.entries()) {
          if (app.batchStop) {
            task.status = 'STOPPED';
            break;
          }
          try {
            const { json } = await inferImage(image, channels, { ...params, ...save });
            task.details.push(
              `${k + 1}/${images.length} ${app.monaiId(image)}: ${(json.metrics as { cells: number }).cells} cells`,
            );
          } catch (e) {
            task.details.push(`${k + 1}/${images.length} ${app.monaiId(image)}: ${(e as Error).message}`);
            if (!app.batchStop) task.status = 'ERROR';
          }
          if (task.details.length > 20) task.details.splice(0, task.details.length - 20);
        }
        if (task.status === 'RUNNING') task.status = 'DONE';
        task.end_ts = monaiTimestamp();
        app.logs.add(`batch infer ${task.id}: ${task.status} (${images.length} images)`);
      })();
      sendJson(c.res, 200, task);
    })
    .on('POST', '/train/:model', async (c) => {
      const channels = app.channelsOf(c.params.model!);
      const p = parse(TrainParams, await readJson(c.req, 1024 * 1024), 'train');
      const enqueue = q(c, 'enqueue') === 'true';
      if (app.train?.status === 'RUNNING' && !enqueue)
        throw new BridgeError('busy', `a training is already running (task ${app.train.id}); DELETE /train/ stops it`);
      const images = app.images().filter((i) => app.labelled(i));
      const wrong = images.find((i) => i.channels !== channels);
      if (wrong)
        throw new BridgeError(
          'bad-request',
          `image ${app.monaiId(wrong)} has ${wrong.channels} channels; ${c.params.model} trains on ${channels}-channel images`,
        );
      const batchSize = p.batch_size ?? 4;
      stepsPerEpoch = Math.max(1, Math.ceil(p.npatches_epoch / batchSize));
      epochs = p.max_epochs;
      const steps = p.steps ?? epochs * stepsPerEpoch;
      if (p.steps) {
        epochs = Math.max(1, Math.ceil(p.steps / stepsPerEpoch));
      }
      const current = store.project(app.project()).currentModel;
      const init = p.init ?? (current && store.model(current).channels.length === channels ? 'current' : 'generic');
      const job = jobs.startTrain(
        app.project(),
        {
          steps,
          ...(p.seconds ? { seconds: p.seconds } : {}),
          batchSize,
          ...(p.patch ? { patch: p.patch } : {}),
          ...(p.depth ? { depth: p.depth } : {}),
          ...(p.base ? { base: p.base } : {}),
          ...(p.learning_rate ? { learningRate: p.learning_rate } : {}),
          init,
          queue: enqueue,
        },
        'monai',
      );
      app.trainJob = job.id;
      app.train = {
        id: randomUUID(),
        status: job.status === 'queued' ? 'SUBMITTED' : 'RUNNING',
        request: { model: c.params.model, ...p, job: job.id },
        start_ts: monaiTimestamp(),
        end_ts: '',
        details: [
          `job ${job.id}: ${steps} steps (${epochs} epochs of ${stepsPerEpoch} batches of ${batchSize} patches) on ${images.length} image(s)`,
          ...(p.early_stop_patience !== undefined
            ? [
                `early_stop_patience ${p.early_stop_patience} noted; there is no validation split to stop on (the step budget applies)`,
              ]
            : []),
        ],
      };
      app.logs.add(`train ${c.params.model}: job ${job.id}, ${steps} steps`);
      sendJson(c.res, 200, app.train);
    })
    .on('GET', '/model/info/:model', async (c) => {
      const model = await app.model(app.channelsOf(c.params.model!));
      sendJson(c.res, 200, {
        checksum: await app.checksum(model),
        modified_time: Math.floor(Date.parse(model.created) / 1000),
        version: model.id,
        parent: model.parent,
        train_stats: { total_steps: model.steps, total_time: model.trainSeconds, ...model.metrics },
      });
    })
    .on('GET', '/model/:model', async (c) => {
      const model = await app.model(app.channelsOf(c.params.model!));
      const dir = store.layout.model(model.id);
      const zip = zipSync({
        [MODEL_JSON]: new Uint8Array(await readFile(path.join(dir, MODEL_JSON))),
        [MODEL_WEIGHTS]: new Uint8Array(await readFile(path.join(dir, MODEL_WEIGHTS))),
      });
      sendBytes(c.res, zip, 'application/zip', {
        'Content-Disposition': `attachment; filename="${c.params.model}-${model.id}.zip"`,
      });
    })
    .on('PUT', '/model/:model', async (c) => {
      const channels = app.channelsOf(c.params.model!);
      const form = await readMultipart(c.req, store.layout.temp, 512 * 1024 * 1024);
      try {
        const part = form.files.file;
        if (!part) throw new BridgeError('bad-request', 'the model goes in a multipart field named file');
        let files: Record<string, Uint8Array>;
        try {
          files = unzipSync(new Uint8Array(await readFile(part.file)));
        } catch {
          throw new BridgeError(
            'bad-request',
            `${part.filename}: not a zip of ${MODEL_JSON} and ${MODEL_WEIGHTS} (what GET /model/${c.params.model} gives)`,
          );
        }
        const byName = new Map(Object.entries(files).map(([k, v]) => [path.basename(k), v]));
        const record = await app.addUploadedModel(byName, channels);
        sendJson(c.res, 200, {
          checksum: await app.checksum(record),
          modified_time: Math.floor(Date.parse(record.created) / 1000),
          version: record.id,
          parent: record.parent,
        });
      } finally {
        await form.cleanup();
      }
    })
    .on('POST', '/activelearning/:strategy', async (c) => {
      const strategy = c.params.strategy!;
      await readBody(c.req, 1024 * 1024);
      const candidates = app.images().filter((i) => !app.labelled(i));
      if (candidates.length === 0) return sendJson(c.res, 200, {});
      let pick: StoredImage;
      if (strategy === 'random') pick = candidates[Math.floor(Math.random() * candidates.length)]!;
      else if (strategy === 'entropy') {
        const scored = candidates.map((i) => ({ i, e: store.latestPrediction(i.id)?.meanEntropy ?? -1 }));
        pick = scored.sort((a, b) => b.e - a.e)[0]!.i;
      } else throw new BridgeError('not-found', `strategy ${strategy} (choose random or entropy)`);
      const entropy = store.latestPrediction(pick.id)?.meanEntropy ?? null;
      sendJson(c.res, 200, {
        id: app.monaiId(pick),
        weight: entropy,
        path: `/datastore/image?image=${app.monaiId(pick)}`,
        name: `${app.monaiId(pick)}.tif`,
        mean_entropy: entropy,
        bridge_image: pick.id,
      });
    });
}
