import { PROTOCOL_VERSION, type ServerMessage, type ViewState } from '@impartial/shared';
import type { Client, RoomEvent } from '../hub/hub.js';
import { publicImage } from '../store/store.js';
import type { Actor } from './actor.js';
import type { ServiceContext } from './context.js';
import type { Scope } from './scope.js';

export type { Client as LiveClient } from '../hub/hub.js';

/** Live sync of an image's room: who is on it, what they see, and the events a polling client reads. */
export class LiveService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly scope: Scope,
  ) {}

  /** Joins a client to an image's room and returns its welcome: the image's state and what it missed since `since`. */
  join(actor: Actor, imageId: string, client: Client, since = 0): Extract<ServerMessage, { type: 'welcome' }> {
    const image = this.scope.image(actor, imageId, 'read');
    const { store, strokes, hub } = this.ctx;
    const project = store.projects.get(image.project);
    const welcome: Extract<ServerMessage, { type: 'welcome' }> = {
      type: 'welcome',
      protocol: PROTOCOL_VERSION,
      server: this.ctx.version,
      clientId: client.id,
      image: publicImage(image),
      seq: strokes.lastSeq(image.id),
      entries: strokes.entries(image.id, since),
      models: store.models.list(image.project),
      currentModel: project.currentModel,
      jobs: store.jobs.list(image.project, 20),
      prediction: store.predictions.latest(image.id),
      views: hub.views(image.id),
    };
    hub.join(image.id, client);
    return welcome;
  }

  leave(imageId: string, client: Client): void {
    this.ctx.hub.leave(imageId, client);
  }

  /** A client's view, to everyone else on the image (follow mode). */
  view(actor: Actor, imageId: string, from: { id: string; name: string }, view: ViewState): void {
    this.ctx.hub.view(this.scope.image(actor, imageId, 'read').id, from, view);
  }

  /** The cursor of the image's event ring (what a polling client starts from). */
  cursor(actor: Actor, imageId: string): number {
    return this.ctx.hub.cursor(this.scope.image(actor, imageId, 'read').id);
  }

  /** The first event after `since`, waiting up to `timeoutMs` for one; 'reset' when the cursor is from another run. */
  nextEvent(
    actor: Actor,
    imageId: string,
    since: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<RoomEvent | 'reset' | null> {
    return this.ctx.hub.nextEvent(this.scope.image(actor, imageId, 'read').id, since, timeoutMs, signal);
  }
}
