import type { IncomingMessage } from 'node:http';
import { IdSchema } from '@impartial/shared';
import { ImpartialError } from '../errors.js';
import { authorizationToken } from '../http/credentials.js';
import { type Actor, named, type Services } from '../services/index.js';
import type { EventContext } from './encoding.js';

/** What every Fiji route reads from its query: the image, and who the macro says it is. */
export class FijiRequests {
  constructor(
    readonly services: Services,
    /** `/t/TOKEN` when the bridge has a token: ImageJ opens files by URL and cannot send headers. */
    private readonly filePrefix: string,
    /** On a multi-user bridge each macro's file URLs carry its own credential (it came in the path too). */
    private readonly perAccount = false,
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

  fileUrl(req: IncomingMessage, path: string): string {
    if (!this.perAccount) return `${this.filePrefix}${path}`;
    const credential = authorizationToken(req);
    return credential ? `/t/${encodeURIComponent(credential)}${path}` : path;
  }

  events(actor: Actor, imageId: string, req: IncomingMessage): EventContext {
    return {
      entry: (seq) => this.services.strokes.entry(actor, imageId, seq),
      exportLevel: (id) => this.services.predictions.exportLevel(actor, id),
      fileUrl: (p) => this.fileUrl(req, p),
    };
  }
}
