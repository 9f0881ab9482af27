import { randomUUID } from 'node:crypto';
import { type ServerMessage, TRAINING_DEFAULTS } from '@impartial/shared';
import { z } from 'zod';
import { filterAsync } from '../async-filter.js';
import { ImpartialError } from '../errors.js';
import { parseInput as parse } from '../http/input.js';
import { readJson, sendJson } from '../http/respond.js';
import type { RouteContext, Router } from '../http/router.js';
import { type MonaiApp, monaiTimestamp, type TaskRecord } from './app.js';

/** The MONAI trainer's own defaults (the original ImPartial app's): epochs of patches. */
export const MONAI_TRAINER_DEFAULTS = { max_epochs: 10, npatches_epoch: 200, early_stop_patience: 10 };

const TrainParams = z
  .object({
    max_epochs: z.number().int().min(1).max(100_000).default(MONAI_TRAINER_DEFAULTS.max_epochs),
    npatches_epoch: z.number().int().min(1).max(1_000_000).default(MONAI_TRAINER_DEFAULTS.npatches_epoch),
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

/** The trainer config /info/ shows: MONAI's names with this bridge's defaults. */
export function trainerConfig() {
  const d = TRAINING_DEFAULTS;
  const own = { batch_size: d.batchSize, patch: d.patch, depth: d.depth, base: d.base, learning_rate: d.learningRate };
  return { ...MONAI_TRAINER_DEFAULTS, steps: null, seconds: null, ...own, init: 'current' };
}

/** POST /train/impartial_N, GET /train/ (status), DELETE /train/ (stop); progress as MONAI's epoch log lines. */
export function registerMonaiTraining(router: Router, app: MonaiApp): void {
  const { services } = app;
  // Training progress as MONAI's log lines, which the Fiji plugin parses ("Epoch: k/M ... train_loss: x").
  services.jobs.subscribe((m: ServerMessage) => {
    const tasks =
      m.type === 'train-progress'
        ? app.tasksOfTraining(m.job)
        : m.type === 'job'
          ? app.tasksOfTraining(m.job.id)
          : undefined;
    const t = tasks?.train;
    if (!tasks || !t) return;
    if (m.type === 'train-progress') {
      const { stepsPerEpoch, epochs } = tasks;
      const epoch = Math.min(epochs, Math.floor((m.step - 1) / stepsPerEpoch) + 1),
        iter = ((m.step - 1) % stepsPerEpoch) + 1;
      t.status = 'RUNNING';
      t.details.push(`Epoch: ${epoch}/${epochs}, Iter: ${iter}/${stepsPerEpoch} -- train_loss: ${m.loss.toFixed(4)}`);
      if (t.details.length > 20) t.details.splice(0, t.details.length - 20);
    } else if (m.type === 'job' && !['running', 'queued'].includes(m.job.status)) {
      t.status = m.job.status === 'done' ? 'DONE' : m.job.status === 'cancelled' ? 'STOPPED' : 'ERROR';
      t.end_ts = monaiTimestamp();
      t.result = { model: m.job.result?.model ?? null, steps: m.job.result?.steps ?? null };
      const model = String(m.job.result?.model ?? 'none');
      t.details.push(
        m.job.error ? `error: ${m.job.error}` : `training ${t.status.toLowerCase()}: model version ${model}`,
      );
      tasks.logs.add(`train ${t.id}: ${t.status}`);
    }
  });

  const status = async (c: RouteContext) => {
    const { train } = await app.tasks(app.actor(c.actor));
    const running = train && (train.status === 'RUNNING' || train.status === 'SUBMITTED');
    if (c.url.searchParams.get('check_if_running') === 'true' && !running) {
      throw new ImpartialError('not-found', 'no training is running');
    }
    if (!train) throw new ImpartialError('not-found', 'no training task yet');
    sendJson(c.res, 200, c.url.searchParams.get('all') === 'true' ? [train] : train);
  };
  const stop = async (c: RouteContext) => {
    const actor = app.actor(c.actor);
    const tasks = await app.tasks(actor);
    const status = tasks.train?.status;
    if (tasks.trainJob && (status === 'RUNNING' || status === 'SUBMITTED'))
      await services.jobs.cancel(actor, tasks.trainJob);
    sendJson(c.res, 200, tasks.train);
  };
  for (const p of ['/train', '/train/']) router.on('GET', p, status).on('DELETE', p, stop);

  router.on('POST', '/train/:model', async (c) => {
    const actor = app.actor(c.actor);
    const channels = await app.channelsOf(actor, c.params.model!);
    const p = parse(TrainParams, await readJson(c.req, 1024 * 1024), 'train');
    const enqueue = c.url.searchParams.get('enqueue') === 'true';
    const tasks = await app.tasks(actor);
    if (tasks.train?.status === 'RUNNING' && !enqueue) {
      throw new ImpartialError(
        'busy',
        `a training is already running (task ${tasks.train.id}); DELETE /train/ stops it`,
      );
    }
    const images = await filterAsync(await app.images(actor), (i) => app.labelled(actor, i));
    const wrong = images.find((i) => i.channels !== channels);
    if (wrong) {
      const what = `${c.params.model} trains on ${channels}-channel images`;
      throw new ImpartialError(
        'bad-request',
        `image ${await app.monaiId(wrong)} has ${wrong.channels} channels; ${what}`,
      );
    }
    const batchSize = p.batch_size ?? TRAINING_DEFAULTS.batchSize;
    const stepsPerEpoch = Math.max(1, Math.ceil(p.npatches_epoch / batchSize));
    const epochs = p.steps ? Math.max(1, Math.ceil(p.steps / stepsPerEpoch)) : p.max_epochs;
    const steps = p.steps ?? epochs * stepsPerEpoch;
    // A catalogue model is fine-tuned: the datastore's copy of it becomes the current model first.
    if (app.entryOf(c.params.model!)) {
      const copy = await app.model(actor, c.params.model!);
      await services.projects.setCurrentModel(actor, await app.project(actor), copy.id);
    }
    const project = await services.projects.get(actor, await app.project(actor));
    const current = project.currentModel ? await services.models.get(actor, project.currentModel) : null;
    const fineTune = app.entryOf(c.params.model!) ? 'current' : undefined;
    const init = p.init ?? fineTune ?? (current && current.channels.length === channels ? 'current' : 'generic');
    const job = await services.training.start(actor, project.id, {
      steps,
      ...(p.seconds ? { seconds: p.seconds } : {}),
      batchSize,
      ...(p.patch ? { patch: p.patch } : {}),
      ...(p.depth ? { depth: p.depth } : {}),
      ...(p.base ? { base: p.base } : {}),
      ...(p.learning_rate ? { learningRate: p.learning_rate } : {}),
      init,
      queue: enqueue,
    });
    Object.assign(tasks, { trainJob: job.id, stepsPerEpoch, epochs });
    const plan = `${steps} steps (${epochs} epochs of ${stepsPerEpoch} batches of ${batchSize} patches)`;
    const patience =
      p.early_stop_patience !== undefined
        ? [
            `early_stop_patience ${p.early_stop_patience} noted; ` +
              'there is no validation split to stop on (the step budget applies)',
          ]
        : [];
    tasks.train = {
      id: randomUUID(),
      status: job.status === 'queued' ? 'SUBMITTED' : 'RUNNING',
      request: { model: c.params.model, ...p, job: job.id },
      start_ts: monaiTimestamp(),
      end_ts: '',
      details: [`job ${job.id}: ${plan} on ${images.length} image(s)`, ...patience],
    } satisfies TaskRecord;
    tasks.logs.add(`train ${c.params.model}: job ${job.id}, ${steps} steps`);
    sendJson(c.res, 200, tasks.train);
  });
}
