import { INFERENCE_DEFAULTS, type InferRequest, type JobRecord, type Rect } from '@impartial/shared';
import { badRequest } from '../errors.js';
import type { InferTaskSpec } from '../jobs/infer-task.js';
import { imageRefOf } from '../jobs/region.js';
import type { Actor } from './actor.js';
import { creditUse } from './catalogue/credit.js';
import type { ServiceContext } from './context.js';
import type { ModelService } from './models.js';
import type { Scope } from './scope.js';

/**
 * Which image channels a model reads, by name; a model trained on all channels of images with the
 * same count but other names reads them in file order. Null when they cannot be matched.
 */
export function modelChannelsOf(modelChannels: readonly string[], imageChannels: readonly string[]): number[] | null {
  const byName = modelChannels.map((n) => imageChannels.indexOf(n));
  if (byName.every((i) => i >= 0) && new Set(byName).size === byName.length) return byName;
  return modelChannels.length === imageChannels.length ? imageChannels.map((_, i) => i) : null;
}

const clampRect = (r: Rect, width: number, height: number): Rect => ({
  x: r.x,
  y: r.y,
  width: Math.min(r.width, width - r.x),
  height: Math.min(r.height, height - r.y),
});

/** Inference: which model reads which channels of the image, checked here; the job manager runs it. */
export class InferenceService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly scope: Scope,
    private readonly models: ModelService,
  ) {}

  /**
   * Predicts an image with a model version, viewport first: the one asked for, or the project's
   * current one, or (a project with no model yet) the shipped starting model for the image's channel
   * count, added as the project's first version.
   */
  async start(actor: Actor, request: InferRequest): Promise<JobRecord> {
    if (request.viewportOnly && !request.viewport) throw badRequest('viewportOnly needs a viewport');
    const image = await this.scope.image(actor, request.image, 'annotate');
    // Checked before a starting model is added: a refused request stores nothing.
    const v = request.viewport;
    if (v && (v.x >= image.width || v.y >= image.height)) {
      throw badRequest(`viewport starts outside the ${image.width}x${image.height} image`);
    }
    const project = await this.ctx.store.projects.get(image.project);
    const modelId =
      request.model ?? project.currentModel ?? (await this.models.forChannels(actor, project.id, image.channels)).id;
    // Through the scope: a model of a project the actor may not see answers as missing, naming nothing.
    const model = await this.scope.model(actor, modelId, 'read');
    if (model.project !== project.id) {
      throw badRequest(`model ${modelId} belongs to project ${model.project}, not ${project.id}`);
    }
    const select = modelChannelsOf(model.channels, image.channelNames);
    if (!select) {
      throw badRequest(
        `model ${modelId} reads channels ${model.channels.join(', ')}; ` +
          `image ${image.id} has ${image.channelNames.join(', ')}`,
      );
    }
    const reordered = select.length !== image.channels || select.some((c, i) => c !== i);
    const spec: InferTaskSpec = {
      kind: 'infer',
      ...this.ctx.store.files.taskSpec(),
      image: { ...imageRefOf(image, reordered ? select : undefined), name: image.name, levels: image.levels },
      modelDir: this.ctx.store.layout.model(modelId),
      outDir: this.ctx.store.layout.prediction(image.id, modelId),
      tempDir: this.ctx.store.layout.temp,
      tile: request.tile ?? INFERENCE_DEFAULTS.tile,
      passes: request.passes ?? INFERENCE_DEFAULTS.passes,
      ...(request.dropout ? { dropout: true } : {}),
      ...(v ? { viewport: clampRect(v, image.width, image.height) } : {}),
      ...(request.viewportOnly ? { viewportOnly: true } : {}),
      ...(request.threshold !== undefined ? { threshold: request.threshold } : {}),
    };
    const job = this.ctx.jobs.startInfer(project.id, request, spec, modelId, actor.account?.name ?? null);
    await creditUse(this.ctx.store, actor, model, 'inference');
    return job;
  }

  /** Resolves when the job has ended (done, failed or cancelled). */
  async wait(actor: Actor, jobId: string): Promise<JobRecord> {
    return this.ctx.jobs.waitFor((await this.scope.job(actor, jobId, 'read')).id);
  }
}
