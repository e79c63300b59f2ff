import type { IncomingMessage, ServerResponse } from 'node:http';
import findMyWay from 'find-my-way';
import type { HTTPMethod } from 'find-my-way';
import type { Logger } from 'pino';
import { HttpError, sendError } from './http-error.js';
import type { ErrorMapper } from './http-error.js';

/** What a route handler gets: the request, the response, the path parameters and the parsed URL. */
export interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly params: Readonly<Record<string, string>>;
  readonly url: URL;
}

export type RouteHandler = (context: RouteContext) => Promise<void> | void;

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

const METHODS: readonly Method[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'];

export interface RouterOptions {
  readonly logger: Logger;
  /** The service's domain errors as HTTP answers; anything unmapped is a logged 500. */
  readonly mapError?: ErrorMapper | undefined;
  /** Longest path accepted (414 beyond). Default 2048. */
  readonly maxPathLength?: number | undefined;
}

/**
 * Routes of one HTTP server, on find-my-way (the radix-tree router Fastify uses, maintained
 * with it): `/v1/budgets/:id` parameters, `*` wildcards. Every answer it makes itself is the
 * one error envelope: 404 NOT_FOUND for a path no route has, 405 METHOD_NOT_ALLOWED (with
 * Allow) for a method the path lacks, HttpError and mapped domain errors as they say, and 500
 * INTERNAL (logged, message withheld) for anything else. GET routes answer HEAD too.
 */
export class Router {
  private readonly routes = findMyWay({ ignoreTrailingSlash: true, maxParamLength: 256 });

  constructor(private readonly options: RouterOptions) {}

  on(methods: Method | readonly Method[], path: string, handler: RouteHandler): this {
    const list = typeof methods === 'string' ? [methods] : [...methods];
    if (list.includes('GET') && !list.includes('HEAD')) list.push('HEAD');
    this.routes.on(list, path, (_req, _res, _params, store: unknown) => store, handler);
    return this;
  }

  get(path: string, handler: RouteHandler): this {
    return this.on('GET', path, handler);
  }

  post(path: string, handler: RouteHandler): this {
    return this.on('POST', path, handler);
  }

  put(path: string, handler: RouteHandler): this {
    return this.on('PUT', path, handler);
  }

  delete(path: string, handler: RouteHandler): this {
    return this.on('DELETE', path, handler);
  }

  /** The request listener for `http.createServer`. */
  listener(): (req: IncomingMessage, res: ServerResponse) => void {
    return (req, res) => void this.handle(req, res);
  }

  /** Answers one request; never rejects. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname.length > (this.options.maxPathLength ?? 2048)) {
        throw new HttpError(414, 'URI_TOO_LONG', 'the path is too long');
      }
      const method = (req.method ?? 'GET').toUpperCase() as Method;
      const found = METHODS.includes(method) ? this.routes.find(method, url.pathname) : null;
      if (found === null) {
        const allowed = METHODS.filter((m) => this.routes.find(m as HTTPMethod, url.pathname) !== null);
        if (allowed.length > 0) {
          throw new HttpError(405, 'METHOD_NOT_ALLOWED', `use ${allowed.join(', ')}`, {
            headers: { allow: allowed.join(', ') },
          });
        }
        throw new HttpError(404, 'NOT_FOUND', `no route ${url.pathname}`);
      }
      const params: Record<string, string> = {};
      for (const [name, value] of Object.entries(found.params)) if (value !== undefined) params[name] = value;
      const handler = found.store as RouteHandler;
      await handler({ req, res, params, url });
    } catch (err) {
      this.fail(req, res, err);
    }
  }

  private fail(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    const answer = err instanceof HttpError ? err : this.options.mapError?.(err);
    if (answer === undefined || answer.status === 500) {
      this.options.logger.error({ err, method: req.method, url: req.url }, 'request failed');
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendError(res, answer ?? new HttpError(500, 'INTERNAL', 'internal error'));
  }
}
