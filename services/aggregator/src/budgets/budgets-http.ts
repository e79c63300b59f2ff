import type { IncomingMessage, ServerResponse } from 'node:http';
import { BudgetError, budgetToDocument, formatScaled, MONEY_SCALE } from '@costtrace/core';
import type { Logger } from 'pino';
import type { BudgetKeyStatus, BudgetList, BudgetStatus, ThrottleList } from '@costtrace/client';
import { publicEndpoint } from '../webhooks/webhook-endpoint.js';
import { WebhookError } from '../webhooks/webhook-error.js';
import { WEBHOOK_EVENT_TYPES } from '../webhooks/webhook-event.js';
import type { WebhookDispatcher } from '../webhooks/webhook-dispatcher.js';
import type { WebhookOutbox } from '../webhooks/webhook-outbox.js';
import type { KeyStatus } from './budget-engine.js';
import type { BudgetRegistry } from './budget-registry.js';
import type { ThrottleBoard, ThrottleChange } from './throttle-board.js';

export interface BudgetsHttpOptions {
  readonly registry: BudgetRegistry;
  readonly board: ThrottleBoard;
  readonly outbox: WebhookOutbox;
  readonly dispatcher: WebhookDispatcher;
  /** Status of a budget's keys (local evaluator merged with persisted state of other instances). */
  readonly status: (budgetId: string) => Promise<{ keys: KeyStatus[]; keysOverCap: number }>;
  readonly logger: Logger;
  /** Largest accepted request body. Default 256 KiB. */
  readonly maxBodyBytes?: number | undefined;
  /** Most concurrent SSE clients. Default 1000. */
  readonly maxStreamClients?: number | undefined;
  /** SSE heartbeat interval. Default 15 s. */
  readonly heartbeatMs?: number | undefined;
}

export type BudgetsHttpHandler = ((req: IncomingMessage, res: ServerResponse) => Promise<boolean>) & {
  /** Ends every open SSE stream (for shutdown). */
  close(): void;
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const EVENT_ID = /^evt_[A-Za-z0-9_-]{1,64}$/;
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const usd = (subunits: bigint): string => formatScaled(subunits, MONEY_SCALE);

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/.test(type))
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send Content-Type: application/json');
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > maxBytes) throw new HttpError(413, 'TOO_LARGE', `body larger than ${maxBytes} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new HttpError(413, 'TOO_LARGE', `body larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'INVALID_JSON', 'body is not JSON');
  }
}

function limitParam(url: URL): number {
  const raw = url.searchParams.get('limit');
  if (raw === null) return 100;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new HttpError(400, 'INVALID_QUERY', 'limit must be an integer from 1 to 1000', 'limit');
  return n;
}

function idParam(url: URL, name: string, pattern = ID): string | undefined {
  const v = url.searchParams.get(name);
  if (v === null) return undefined;
  if (!pattern.test(v)) throw new HttpError(400, 'INVALID_QUERY', `${name} is not a valid id`, name);
  return v;
}

export function keyStatusJson(k: KeyStatus): BudgetKeyStatus {
  return {
    scope_key: k.scopeKey,
    dimensions: k.dimensions,
    spend_usd: usd(k.spend),
    limit_usd: usd(k.limit),
    percent: k.percent,
    window: { start: iso(k.windowStartMs), end: iso(k.windowEndMs) },
    thresholds_crossed: k.thresholdsCrossed,
    throttle: {
      engaged: k.throttle.engaged,
      breach: k.throttle.breach,
      since: iso(k.throttle.sinceMs),
      expected_until: iso(k.expectedUntilMs),
    },
    forecast:
      k.forecast === null
        ? null
        : {
            projected_usd: usd(k.forecast.projected),
            burn_rate_usd_per_hour: usd(k.forecast.burnRatePerHour),
            exhaustion_at: iso(k.forecast.exhaustionAtMs),
          },
    last_seen: iso(k.lastSeenMs),
    /** True when this instance evaluates the key (live); false: last persisted state of another instance's key. */
    evaluated_here: k.live ?? true,
  };
}

/**
 * The budgets HTTP API as one request handler the aggregator's server mounts: it answers the
 * routes below and returns false for any other path, so it composes with other handlers.
 *
 *   GET/POST        /v1/budgets                 list / create
 *   GET/PUT/DELETE  /v1/budgets/{id}            read / create-or-replace / delete
 *   GET             /v1/budgets/{id}/status     spend, percent, window, throttle, forecast per key
 *   GET             /v1/throttles               active throttles (JSON)
 *   GET             /v1/throttles/stream        the same as Server-Sent Events (snapshot, engaged, released)
 *   GET             /v1/events                  recent budget/throttle/anomaly events (alerts)
 *   GET/PUT/DELETE  /v1/webhooks/endpoints[/{id}]
 *   GET             /v1/webhooks/deliveries     delivery log (filters: event_id, endpoint, budget, outcome, limit)
 *   GET             /v1/webhooks/dead-letters   dead-lettered deliveries
 *   POST            /v1/webhooks/deliveries/{event_id}/replay[?endpoint=]  manual replay
 */
export function createBudgetsHttpHandler(options: BudgetsHttpOptions): BudgetsHttpHandler {
  const maxBody = options.maxBodyBytes ?? 256 * 1024;
  const maxClients = options.maxStreamClients ?? 1000;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const streams = new Set<ServerResponse>();
  const { registry, board, outbox, dispatcher } = options;

  const budgetJson = (id: string) => {
    const b = registry.budget(id);
    return b === undefined ? undefined : budgetToDocument(b);
  };

  function stream(req: IncomingMessage, res: ServerResponse): void {
    if (streams.size >= maxClients)
      throw new HttpError(503, 'TOO_MANY_STREAMS', `at most ${maxClients} throttle streams`);
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(
      `retry: 1000\nevent: snapshot\ndata: ${JSON.stringify({ version: board.version, throttles: board.list() })}\n\n`,
    );
    const onChange = (change: ThrottleChange): void => {
      const data =
        change.type === 'engaged'
          ? change.throttle
          : { id: change.id, budgetId: change.budget_id, scope_key: change.scope_key, budget_id: change.budget_id };
      res.write(`event: ${change.type}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const unsubscribe = board.subscribe(onChange);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), heartbeatMs);
    heartbeat.unref();
    streams.add(res);
    const done = (): void => {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(res);
    };
    req.on('close', done);
    res.on('close', done);
  }

  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const method = req.method ?? 'GET';
    const parts = url.pathname.split('/').filter((p) => p !== '');
    if (parts[0] !== 'v1') return false;
    const [, area, a, b, c] = parts;
    if (parts.length > 5 || url.pathname.length > 512) throw new HttpError(404, 'NOT_FOUND', 'no such route');

    if (area === 'budgets') {
      if (a === undefined) {
        if (method === 'GET')
          return (
            send(res, 200, { budgets: registry.catalog().list().map(budgetToDocument) } satisfies BudgetList),
            true
          );
        if (method === 'POST') {
          const body = await readJson(req, maxBody);
          const id = (body as { id?: unknown } | null)?.id;
          if (typeof id === 'string' && registry.budget(id) !== undefined)
            throw new HttpError(409, 'EXISTS', `budget ${id} exists; PUT /v1/budgets/${id} replaces it`, 'budget.id');
          const { budget } = await registry.putBudgetDocument(body);
          options.logger.info({ budgetId: budget.id }, 'budget created');
          return (send(res, 201, { budget: budgetToDocument(budget) }), true);
        }
        throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'use GET or POST');
      }
      if (!ID.test(a)) throw new HttpError(400, 'INVALID_ID', 'budget id: 1-64 letters, digits, ".", "_" or "-"', 'id');
      if (b === undefined) {
        if (method === 'GET') {
          const doc = budgetJson(a);
          if (doc === undefined) throw new HttpError(404, 'NOT_FOUND', `no budget ${a}`);
          return (send(res, 200, { budget: doc }), true);
        }
        if (method === 'PUT') {
          const body = await readJson(req, maxBody);
          if (typeof body !== 'object' || body === null || Array.isArray(body))
            throw new HttpError(400, 'INVALID_BUDGET', 'body must be a budget object', 'budget');
          const doc = body as Record<string, unknown>;
          if (doc.id !== undefined && doc.id !== a)
            throw new HttpError(400, 'INVALID_BUDGET', 'id in the body differs from the path', 'budget.id');
          const { budget, created } = await registry.putBudgetDocument({ ...doc, id: a });
          options.logger.info({ budgetId: budget.id, created }, 'budget saved');
          return (send(res, created ? 201 : 200, { budget: budgetToDocument(budget) }), true);
        }
        if (method === 'DELETE') {
          if (!(await registry.deleteBudget(a))) throw new HttpError(404, 'NOT_FOUND', `no budget ${a}`);
          options.logger.info({ budgetId: a }, 'budget deleted');
          return (send(res, 204), true);
        }
        throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'use GET, PUT or DELETE');
      }
      if (b === 'status' && c === undefined && method === 'GET') {
        const doc = budgetJson(a);
        if (doc === undefined) throw new HttpError(404, 'NOT_FOUND', `no budget ${a}`);
        const { keys, keysOverCap } = await options.status(a);
        const limit = limitParam(url);
        return (
          send(res, 200, {
            budget: doc,
            keys: keys.slice(0, limit).map(keyStatusJson),
            key_count: keys.length,
            keys_over_cap: keysOverCap,
          } satisfies BudgetStatus),
          true
        );
      }
      throw new HttpError(404, 'NOT_FOUND', 'no such route');
    }

    if (area === 'throttles') {
      if (method !== 'GET') throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'use GET');
      if (a === undefined)
        return (
          send(res, 200, {
            version: board.version,
            throttles: board.list(),
            generated_at: new Date().toISOString(),
          } satisfies ThrottleList),
          true
        );
      if (a === 'stream' && b === undefined) return (stream(req, res), true);
      throw new HttpError(404, 'NOT_FOUND', 'no such route');
    }

    if (area === 'events' && a === undefined) {
      if (method !== 'GET') throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'use GET');
      const type = url.searchParams.get('type') ?? undefined;
      if (type !== undefined && !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(type)) {
        throw new HttpError(400, 'INVALID_QUERY', `type must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}`, 'type');
      }
      const events = outbox.recentEvents({ budgetId: idParam(url, 'budget'), type, limit: limitParam(url) });
      return (send(res, 200, { events: events.map((e) => JSON.parse(e.body) as unknown) }), true);
    }

    if (area === 'webhooks') {
      if (a === 'endpoints') {
        if (b === undefined && method === 'GET') {
          const list = [...registry.endpointMap().values()].map((e) => publicEndpoint(e, outbox.endpointState(e.id)));
          return (send(res, 200, { endpoints: list }), true);
        }
        if (b !== undefined && c === undefined && ID.test(b)) {
          if (method === 'PUT') {
            const body = await readJson(req, maxBody);
            if (typeof body !== 'object' || body === null)
              throw new HttpError(400, 'INVALID_ENDPOINT', 'body must be an endpoint object', 'webhook');
            const endpoint = await registry.putEndpointDocument({ ...body, id: b });
            await dispatcher.enableEndpoint(endpoint.id);
            options.logger.info({ endpoint: endpoint.id }, 'webhook endpoint saved');
            return (send(res, 200, { endpoint: publicEndpoint(endpoint, outbox.endpointState(endpoint.id)) }), true);
          }
          if (method === 'DELETE') {
            if (!(await registry.deleteEndpoint(b))) throw new HttpError(404, 'NOT_FOUND', `no endpoint ${b}`);
            return (send(res, 204), true);
          }
        }
        throw new HttpError(404, 'NOT_FOUND', 'no such route');
      }
      if (a === 'deliveries' && b === undefined && method === 'GET') {
        const outcome = url.searchParams.get('outcome') ?? undefined;
        if (outcome !== undefined && !['delivered', 'retry', 'dead'].includes(outcome)) {
          throw new HttpError(400, 'INVALID_QUERY', 'outcome must be delivered, retry or dead', 'outcome');
        }
        const attempts = outbox.attempts({
          eventId: idParam(url, 'event_id', EVENT_ID),
          endpointId: idParam(url, 'endpoint'),
          budgetId: idParam(url, 'budget'),
          outcome,
          limit: limitParam(url),
        });
        return (
          send(res, 200, {
            deliveries: attempts.map((x) => ({
              event_id: x.eventId,
              endpoint: x.endpointId,
              event_type: x.eventType,
              budget_id: x.budgetId || null,
              attempt: x.attempt,
              at: iso(x.atMs),
              http_status: x.httpStatus,
              error: x.error,
              duration_ms: x.durationMs,
              outcome: x.outcome,
              next_attempt_at: iso(x.nextAttemptAtMs),
            })),
          }),
          true
        );
      }
      if (a === 'dead-letters' && b === undefined && method === 'GET') {
        const dead = outbox.deliveriesByStatus('dead', limitParam(url));
        return (
          send(res, 200, {
            dead_letters: dead.map((d) => ({
              event_id: d.eventId,
              endpoint: d.endpointId,
              event_type: d.eventType,
              budget_id: d.budgetId || null,
              attempts: d.attempts,
              last_error: d.lastError,
              last_status: d.lastStatus,
            })),
          }),
          true
        );
      }
      if (a === 'deliveries' && b !== undefined && c === 'replay') {
        if (method !== 'POST') throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'use POST');
        if (!EVENT_ID.test(b)) throw new HttpError(400, 'INVALID_ID', 'not an event id', 'event_id');
        const endpoint = idParam(url, 'endpoint');
        const deliveries = await dispatcher.replay(b, endpoint);
        options.logger.info({ eventId: b, endpoint }, 'webhook replay requested');
        return (
          send(res, 202, {
            replayed: deliveries.map((d) => ({ event_id: d.eventId, endpoint: d.endpointId, status: d.status })),
          }),
          true
        );
      }
      throw new HttpError(404, 'NOT_FOUND', 'no such route');
    }
    return false;
  }

  const handler = (async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      return await route(req, res, url);
    } catch (err) {
      let status = 500;
      let body: { code: string; message: string; field?: string | undefined } = {
        code: 'INTERNAL',
        message: 'internal error',
      };
      if (err instanceof HttpError) {
        status = err.status;
        body = { code: err.code, message: err.message, field: err.field };
      } else if (err instanceof BudgetError) {
        status = 400;
        body = { code: err.code, message: err.message, field: err.field };
      } else if (err instanceof WebhookError) {
        status =
          err.code === 'NOT_FOUND' ? 404 : err.code === 'INVALID_ENDPOINT' || err.code === 'INVALID_SECRET' ? 400 : 500;
        body = { code: err.code, message: err.message };
      }
      if (status >= 500) options.logger.error({ err, path: url.pathname }, 'budgets API request failed');
      if (!res.headersSent) send(res, status, { error: body });
      else res.end();
      return true;
    }
  }) as BudgetsHttpHandler;
  handler.close = () => {
    for (const res of streams) res.end();
    streams.clear();
  };
  return handler;
}
