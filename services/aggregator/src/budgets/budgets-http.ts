import type { ServerResponse } from 'node:http';
import { BudgetError, budgetToDocument, formatScaled, MONEY_SCALE } from '@costtrace/core';
import { HttpError, readJsonBody, sendJson } from '@costtrace/service-kit';
import type { RouteContext, Router } from '@costtrace/service-kit';
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

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const EVENT_ID = /^evt_[A-Za-z0-9_-]{1,64}$/;
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const usd = (subunits: bigint): string => formatScaled(subunits, MONEY_SCALE);

function limitParam(url: URL): number {
  const raw = url.searchParams.get('limit');
  if (raw === null) return 100;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new HttpError(400, 'INVALID_QUERY', 'limit must be an integer from 1 to 1000', { field: 'limit' });
  return n;
}

function idParam(url: URL, name: string, pattern = ID): string | undefined {
  const v = url.searchParams.get(name);
  if (v === null) return undefined;
  if (!pattern.test(v)) throw new HttpError(400, 'INVALID_QUERY', `${name} is not a valid id`, { field: name });
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
 * The budgets, throttles, events and webhooks API of a running BudgetService:
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
 *
 * Errors are the service kit's envelope; BudgetError is 400 naming the field, WebhookError by
 * its code (see `budgetsErrorMapper`).
 */
export class BudgetsApi {
  private readonly maxBody: number;
  private readonly maxClients: number;
  private readonly heartbeatMs: number;
  private readonly streams = new Set<ServerResponse>();

  constructor(private readonly options: BudgetsHttpOptions) {
    this.maxBody = options.maxBodyBytes ?? 256 * 1024;
    this.maxClients = options.maxStreamClients ?? 1000;
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
  }

  /**
   * Registers the routes. `current` returns the running API, or undefined while budgets still
   * start (the routes then answer 503 STARTING with Retry-After).
   */
  static addRoutes(router: Router, current: () => BudgetsApi | undefined): void {
    const on =
      (handler: (api: BudgetsApi, context: RouteContext) => Promise<void> | void) =>
      (context: RouteContext): Promise<void> | void => {
        const api = current();
        if (api === undefined) {
          throw new HttpError(503, 'STARTING', 'budgets start once ClickHouse and Kafka answer', {
            headers: { 'retry-after': '5' },
          });
        }
        return handler(api, context);
      };
    router
      .get(
        '/v1/budgets',
        on((api, c) => api.listBudgets(c)),
      )
      .post(
        '/v1/budgets',
        on((api, c) => api.createBudget(c)),
      )
      .get(
        '/v1/budgets/:id',
        on((api, c) => api.getBudget(c)),
      )
      .put(
        '/v1/budgets/:id',
        on((api, c) => api.putBudget(c)),
      )
      .delete(
        '/v1/budgets/:id',
        on((api, c) => api.deleteBudget(c)),
      )
      .get(
        '/v1/budgets/:id/status',
        on((api, c) => api.budgetStatus(c)),
      )
      .get(
        '/v1/throttles',
        on((api, c) => api.throttles(c)),
      )
      .get(
        '/v1/throttles/stream',
        on((api, c) => api.stream(c)),
      )
      .get(
        '/v1/events',
        on((api, c) => api.events(c)),
      )
      .get(
        '/v1/webhooks/endpoints',
        on((api, c) => api.endpoints(c)),
      )
      .put(
        '/v1/webhooks/endpoints/:id',
        on((api, c) => api.putEndpoint(c)),
      )
      .delete(
        '/v1/webhooks/endpoints/:id',
        on((api, c) => api.deleteEndpoint(c)),
      )
      .get(
        '/v1/webhooks/deliveries',
        on((api, c) => api.deliveries(c)),
      )
      .get(
        '/v1/webhooks/dead-letters',
        on((api, c) => api.deadLetters(c)),
      )
      .post(
        '/v1/webhooks/deliveries/:eventId/replay',
        on((api, c) => api.replay(c)),
      );
  }

  /** Ends every open SSE stream (for shutdown). */
  close(): void {
    for (const res of this.streams) res.end();
    this.streams.clear();
  }

  private budgetJson(id: string) {
    const b = this.options.registry.budget(id);
    return b === undefined ? undefined : budgetToDocument(b);
  }

  private listBudgets({ res }: RouteContext): void {
    const budgets = this.options.registry.catalog().list().map(budgetToDocument);
    sendJson(res, 200, { budgets } satisfies BudgetList);
  }

  private async createBudget({ req, res }: RouteContext): Promise<void> {
    const body = await readJsonBody(req, this.maxBody);
    const id = (body as { id?: unknown } | null)?.id;
    if (typeof id === 'string' && this.options.registry.budget(id) !== undefined) {
      throw new HttpError(409, 'EXISTS', `budget ${id} exists; PUT /v1/budgets/${id} replaces it`, {
        field: 'budget.id',
      });
    }
    const { budget } = await this.options.registry.putBudgetDocument(body);
    this.options.logger.info({ budgetId: budget.id }, 'budget created');
    sendJson(res, 201, { budget: budgetToDocument(budget) });
  }

  private getBudget({ res, params }: RouteContext): void {
    const doc = this.budgetJson(budgetId(params));
    if (doc === undefined) throw new HttpError(404, 'NOT_FOUND', `no budget ${params.id}`);
    sendJson(res, 200, { budget: doc });
  }

  private async putBudget({ req, res, params }: RouteContext): Promise<void> {
    const id = budgetId(params);
    const body = await readJsonBody(req, this.maxBody);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new HttpError(400, 'INVALID_BUDGET', 'body must be a budget object', { field: 'budget' });
    }
    const doc = body as Record<string, unknown>;
    if (doc.id !== undefined && doc.id !== id) {
      throw new HttpError(400, 'INVALID_BUDGET', 'id in the body differs from the path', { field: 'budget.id' });
    }
    const { budget, created } = await this.options.registry.putBudgetDocument({ ...doc, id });
    this.options.logger.info({ budgetId: budget.id, created }, 'budget saved');
    sendJson(res, created ? 201 : 200, { budget: budgetToDocument(budget) });
  }

  private async deleteBudget({ res, params }: RouteContext): Promise<void> {
    const id = budgetId(params);
    if (!(await this.options.registry.deleteBudget(id))) throw new HttpError(404, 'NOT_FOUND', `no budget ${id}`);
    this.options.logger.info({ budgetId: id }, 'budget deleted');
    sendJson(res, 204);
  }

  private async budgetStatus({ res, params, url }: RouteContext): Promise<void> {
    const id = budgetId(params);
    const doc = this.budgetJson(id);
    if (doc === undefined) throw new HttpError(404, 'NOT_FOUND', `no budget ${id}`);
    const { keys, keysOverCap } = await this.options.status(id);
    const limit = limitParam(url);
    sendJson(res, 200, {
      budget: doc,
      keys: keys.slice(0, limit).map(keyStatusJson),
      key_count: keys.length,
      keys_over_cap: keysOverCap,
    } satisfies BudgetStatus);
  }

  private throttles({ res }: RouteContext): void {
    const { board } = this.options;
    sendJson(res, 200, {
      version: board.version,
      throttles: board.list(),
      generated_at: new Date().toISOString(),
    } satisfies ThrottleList);
  }

  private stream({ req, res }: RouteContext): void {
    const { board } = this.options;
    if (this.streams.size >= this.maxClients) {
      throw new HttpError(503, 'TOO_MANY_STREAMS', `at most ${this.maxClients} throttle streams`);
    }
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
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), this.heartbeatMs);
    heartbeat.unref();
    this.streams.add(res);
    const done = (): void => {
      clearInterval(heartbeat);
      unsubscribe();
      this.streams.delete(res);
    };
    req.on('close', done);
    res.on('close', done);
  }

  private events({ res, url }: RouteContext): void {
    const type = url.searchParams.get('type') ?? undefined;
    if (type !== undefined && !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(type)) {
      throw new HttpError(400, 'INVALID_QUERY', `type must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}`, {
        field: 'type',
      });
    }
    const events = this.options.outbox.recentEvents({
      budgetId: idParam(url, 'budget'),
      type,
      limit: limitParam(url),
    });
    sendJson(res, 200, { events: events.map((e) => JSON.parse(e.body) as unknown) });
  }

  private endpoints({ res }: RouteContext): void {
    const { registry, outbox } = this.options;
    const list = [...registry.endpointMap().values()].map((e) => publicEndpoint(e, outbox.endpointState(e.id)));
    sendJson(res, 200, { endpoints: list });
  }

  private async putEndpoint({ req, res, params }: RouteContext): Promise<void> {
    const id = endpointId(params);
    const { registry, outbox, dispatcher } = this.options;
    const body = await readJsonBody(req, this.maxBody);
    if (typeof body !== 'object' || body === null) {
      throw new HttpError(400, 'INVALID_ENDPOINT', 'body must be an endpoint object', { field: 'webhook' });
    }
    const endpoint = await registry.putEndpointDocument({ ...body, id });
    await dispatcher.enableEndpoint(endpoint.id);
    this.options.logger.info({ endpoint: endpoint.id }, 'webhook endpoint saved');
    sendJson(res, 200, { endpoint: publicEndpoint(endpoint, outbox.endpointState(endpoint.id)) });
  }

  private async deleteEndpoint({ res, params }: RouteContext): Promise<void> {
    const id = endpointId(params);
    if (!(await this.options.registry.deleteEndpoint(id))) throw new HttpError(404, 'NOT_FOUND', `no endpoint ${id}`);
    sendJson(res, 204);
  }

  private deliveries({ res, url }: RouteContext): void {
    const outcome = url.searchParams.get('outcome') ?? undefined;
    if (outcome !== undefined && !['delivered', 'retry', 'dead'].includes(outcome)) {
      throw new HttpError(400, 'INVALID_QUERY', 'outcome must be delivered, retry or dead', { field: 'outcome' });
    }
    const attempts = this.options.outbox.attempts({
      eventId: idParam(url, 'event_id', EVENT_ID),
      endpointId: idParam(url, 'endpoint'),
      budgetId: idParam(url, 'budget'),
      outcome,
      limit: limitParam(url),
    });
    sendJson(res, 200, {
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
    });
  }

  private deadLetters({ res, url }: RouteContext): void {
    const dead = this.options.outbox.deliveriesByStatus('dead', limitParam(url));
    sendJson(res, 200, {
      dead_letters: dead.map((d) => ({
        event_id: d.eventId,
        endpoint: d.endpointId,
        event_type: d.eventType,
        budget_id: d.budgetId || null,
        attempts: d.attempts,
        last_error: d.lastError,
        last_status: d.lastStatus,
      })),
    });
  }

  private async replay({ res, params, url }: RouteContext): Promise<void> {
    const eventId = params.eventId ?? '';
    if (!EVENT_ID.test(eventId)) throw new HttpError(400, 'INVALID_ID', 'not an event id', { field: 'event_id' });
    const endpoint = idParam(url, 'endpoint');
    const deliveries = await this.options.dispatcher.replay(eventId, endpoint);
    this.options.logger.info({ eventId, endpoint }, 'webhook replay requested');
    sendJson(res, 202, {
      replayed: deliveries.map((d) => ({ event_id: d.eventId, endpoint: d.endpointId, status: d.status })),
    });
  }
}

function budgetId(params: RouteContext['params']): string {
  const id = params.id ?? '';
  if (!ID.test(id)) {
    throw new HttpError(400, 'INVALID_ID', 'budget id: 1-64 letters, digits, ".", "_" or "-"', { field: 'id' });
  }
  return id;
}

function endpointId(params: RouteContext['params']): string {
  const id = params.id ?? '';
  if (!ID.test(id)) throw new HttpError(404, 'NOT_FOUND', 'no such route');
  return id;
}

/** BudgetError (a budget or endpoint document that does not validate) and WebhookError as HTTP answers. */
export function budgetsErrorMapper(err: unknown): HttpError | undefined {
  if (err instanceof BudgetError) return new HttpError(400, err.code, err.message, { field: err.field, cause: err });
  if (err instanceof WebhookError) {
    const status =
      err.code === 'NOT_FOUND' ? 404 : err.code === 'INVALID_ENDPOINT' || err.code === 'INVALID_SECRET' ? 400 : 500;
    return new HttpError(status, err.code, err.message, { cause: err });
  }
  return undefined;
}
