import { IdSchema } from '@impartial/shared';
import { ImpartialError } from '../errors.js';
import { type Actor, named, type Services } from '../services/index.js';
import type { EventContext } from './encoding.js';

/** What every Fiji route reads from its query: the image, and who the macro says it is. */
export class FijiRequests {
  constructor(
    readonly services: Services,
    /** `/t/TOKEN` when the bridge has a token: ImageJ opens files by URL and cannot send headers. */
    private readonly filePrefix: string,
  ) {}

  imageId(url: URL): string {
    const id = url.searchParams.get('image');
    if (!id || !IdSchema.safeParse(id).success) throw new ImpartialError('bad-request', 'image=ID is required');
    return id;
  }

  /** The actor under the macro's `name` (default "fiji"), as strokes record it. */
  actor(base: Actor, url: URL): Actor {
    return named(base, (url.searchParams.get('name') ?? 'fiji').slice(0, 100) || 'fiji', 'fiji');
  }

  fileUrl(path: string): string {
    return `${this.filePrefix}${path}`;
  }

  events(actor: Actor, imageId: string): EventContext {
    return {
      entry: (seq) => this.services.strokes.entry(actor, imageId, seq),
      exportLevel: (id) => this.services.predictions.exportLevel(actor, id),
      fileUrl: (p) => this.fileUrl(p),
    };
  }
}
