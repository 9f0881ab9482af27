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
/** A route anyone may fetch: it gets no actor. */
export type PublicHandler = (c: Omit<RouteContext, 'actor'>) => Promise<void> | void;
interface Route {
  method: string;
  regex: RegExp;
  names: string[];
  handler: Handler;
  public: boolean;
}

/** Routes like `/api/images/:image/strokes` and `/zarr/images/:image/*`; every `:param` must be an id. */
export class Router {
  private readonly routes: Route[] = [];

  on(method: string, pattern: string, handler: Handler): this {
    return this.add(method, pattern, handler, false);
  }

  /** A route served without credentials: only for files that hold no data and no secret (the viewer's code). */
  public(method: string, pattern: string, handler: PublicHandler): this {
    return this.add(method, pattern, handler as Handler, true);
  }

  /** Whether a request would reach a public route (then it needs no token). */
  isPublic(method: string | undefined, pathname: string): boolean {
    const m = method === 'HEAD' ? 'GET' : method;
    return this.routes.some((r) => r.public && r.method === m && r.regex.test(pathname));
  }

  private add(method: string, pattern: string, handler: Handler, isPublic: boolean): this {
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
    this.routes.push({ method, regex: new RegExp(`^${source}$`), names, handler, public: isPublic });
    return this;
  }

  /** Runs the matching handler; false when no route matches the path. `actor` is null only for public routes. */
  async dispatch(actor: Actor | null, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
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
      if (r.public) await (r.handler as PublicHandler)({ req, res, url, params, rest });
      else if (actor) await r.handler({ actor, req, res, url, params, rest });
      else throw new ImpartialError('unauthorized', `${url.pathname} needs the bridge's token`);
      return true;
    }
    if (pathMatched) throw new ImpartialError('method-not-allowed', `${req.method} is not allowed on ${url.pathname}`);
    return false;
  }
}
