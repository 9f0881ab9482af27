import { PROTOCOL_VERSION, type ServerMessage, type ViewState } from '@impartial/shared';
import type { Client, RoomEvent } from '../hub/hub.js';
import { publicImage, type StoredImage } from '../store/store.js';
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
  /**
   * Joins a client to an image's room and sends it the welcome, then what happened since. The
   * client is in the room before the log is read (nothing drawn meanwhile is missed); what reaches
   * it before its welcome waits, and entries the welcome already holds are not sent twice.
   */
  async join(
    actor: Actor,
    imageId: string,
    client: Client,
    since = 0,
  ): Promise<Extract<ServerMessage, { type: 'welcome' }>> {
    const image = await this.scope.image(actor, imageId, 'read');
    const { hub } = this.ctx;
    const early: ServerMessage[] = [];
    let open = false;
    // Entries the welcome holds are never sent again, also when a gap fill brings them late.
    let welcomed = Number.POSITIVE_INFINITY;
    const fresh = (m: ServerMessage) => m.type !== 'entry' || m.entry.seq > welcomed;
    const gated: Client = {
      ...client,
      send: (m) => {
        if (!open) early.push(m);
        else if (fresh(m)) client.send(m);
      },
    };
    hub.join(image.id, gated);
    try {
      const welcome = await this.welcome(image, client, since);
      hub.welcomed(image.id, welcome.seq);
      welcomed = welcome.seq;
      client.send(welcome);
      for (const m of early) if (fresh(m)) client.send(m);
      open = true;
      return welcome;
    } catch (e) {
      hub.leave(image.id, gated);
      throw e;
    }
  }

  private async welcome(
    image: StoredImage,
    client: Client,
    since: number,
  ): Promise<Extract<ServerMessage, { type: 'welcome' }>> {
    const { store, strokes, hub } = this.ctx;
    const project = await store.projects.get(image.project);
    const welcome: Extract<ServerMessage, { type: 'welcome' }> = {
      type: 'welcome',
      protocol: PROTOCOL_VERSION,
      server: this.ctx.version,
      clientId: client.id,
      image: publicImage(image),
      seq: await strokes.lastSeq(image.id),
      entries: await strokes.entries(image.id, since),
      models: await store.models.list(image.project),
      currentModel: project.currentModel,
      jobs: await store.jobs.list(image.project, 20),
      prediction: await store.predictions.latest(image.id),
      views: hub.views(image.id),
    };
    return welcome;
  }

  leave(imageId: string, client: Client): void {
    this.ctx.hub.leave(imageId, client);
  }

  /** A client's view, to everyone else on the image (follow mode). */
  async view(actor: Actor, imageId: string, from: { id: string; name: string }, view: ViewState): Promise<void> {
    const image = await this.scope.image(actor, imageId, 'read');
    this.ctx.hub.view(image.id, from, view);
    // A live training predicts again what a viewer of its image has in view (the latest one to move);
    // one who may only look does not move it.
    if (!view.area || !this.ctx.jobs.liveTraining(image.project)) return;
    const mayDraw = await this.scope.image(actor, imageId, 'annotate').then(
      () => true,
      () => false,
    );
    if (mayDraw) this.ctx.jobs.tellLive(image.project, { type: 'view', image: image.id, viewport: view.area });
  }

  /** The cursor of the image's event ring (what a polling client starts from). */
  async cursor(actor: Actor, imageId: string): Promise<number> {
    return this.ctx.hub.cursor((await this.scope.image(actor, imageId, 'read')).id);
  }

  /** The first event after `since`, waiting up to `timeoutMs` for one; 'reset' when the cursor is from another run. */
  async nextEvent(
    actor: Actor,
    imageId: string,
    since: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<RoomEvent | 'reset' | null> {
    return this.ctx.hub.nextEvent((await this.scope.image(actor, imageId, 'read')).id, since, timeoutMs, signal);
  }
}
