import type { IncomingMessage, ServerResponse } from 'node:http';
import { IdSchema } from '@impartial/shared';
import { ImpartialError } from '../errors.js';
import type { Actor } from '../services/index.js';

export interface RouteContext {
  /** Who is asking, as the request's credentials say (checked once, before any route runs). */
  actor: Actor;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
  /** The rest of the path after a trailing `*`, decoded, still to be contained by the handler. */
  rest: string;
}

type Handler = (c: RouteContext) => Promise<void> | void;
interface Route {
  method: string;
  regex: RegExp;
  names: string[];
  handler: Handler;
}

/** Routes like `/api/images/:image/strokes` and `/zarr/images/:image/*`; every `:param` must be an id. */
export class Router {
  private readonly routes: Route[] = [];

  on(method: string, pattern: string, handler: Handler): this {
    const names: string[] = [];
    const source = pattern
      .split('/')
      .map((part) => {
        if (part.startsWith(':')) {
          names.push(part.slice(1));
          return '([^/]+)';
        }
        if (part === '*') return '(.*)';
        return part.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('/');
    this.routes.push({ method, regex: new RegExp(`^${source}$`), names, handler });
    return this;
  }

  /** Runs the matching handler; false when no route matches the path. */
  async dispatch(actor: Actor, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    let pathMatched = false;
    for (const r of this.routes) {
      const m = r.regex.exec(url.pathname);
      if (!m) continue;
      pathMatched = true;
      if (r.method !== req.method && !(r.method === 'GET' && req.method === 'HEAD')) continue;
      const params: Record<string, string> = {};
      r.names.forEach((name, i) => {
        let value: string;
        try {
          value = decodeURIComponent(m[i + 1]!);
        } catch {
          throw new ImpartialError('bad-request', `${name}: malformed percent-encoding`);
        }
        const ok = IdSchema.safeParse(value);
        if (!ok.success)
          throw new ImpartialError(
            'bad-request',
            `${name} "${value.slice(0, 80)}": ids are 1-64 letters, digits, _ or -`,
          );
        params[name] = value;
      });
      let rest = '';
      if (m.length > r.names.length + 1) {
        try {
          rest = decodeURIComponent(m[r.names.length + 1]!);
        } catch {
          throw new ImpartialError('bad-request', 'malformed percent-encoding in the path');
        }
      }
      await r.handler({ actor, req, res, url, params, rest });
      return true;
    }
    if (pathMatched) throw new ImpartialError('method-not-allowed', `${req.method} is not allowed on ${url.pathname}`);
    return false;
  }
}
