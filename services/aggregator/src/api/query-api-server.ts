import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { addOpsRoutes, closeHttp, HttpError, listenHttp, Router, sendJson } from '@costtrace/service-kit';
import type { ErrorMapper, Readiness, RouteContext } from '@costtrace/service-kit';
import { addDashboardRoutes, createDashboardHandler } from '../dashboard/dashboard-handler.js';
import type { PipelineHealth } from '../operations/pipeline-health.js';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import {
  parseCostQuery,
  parseCoverageQuery,
  parseReconcileQuery,
  parseTopSpansQuery,
  queryParams,
  reconcileStored,
  StoreError,
} from '@costtrace/store';
import type { BillStore, CostStore, QueryDimension } from '@costtrace/store';
import type { PriceSnapshot, ReconcileRow } from '@costtrace/core';
import type { CostRow, CoverageRow, QueryResponse, TopSpanRow } from '@costtrace/client';

export interface QueryApiServerOptions {
  readonly host: string;
  readonly port: number;
  readonly store: CostStore;
  readonly registry: Registry;
  readonly logger: Logger;
  /** Readiness: Kafka and ClickHouse reachable, consumer running. */
  readonly readiness: () => Promise<Readiness>;
  /** Registers further routes on the API's router (budgets, throttles). */
  readonly addRoutes?: ((router: Router) => void) | undefined;
  /** Maps the errors of those routes to HTTP answers (the store's are mapped already). */
  readonly mapError?: ErrorMapper | undefined;
  /** Pipeline health for `GET /api/v1/health` (lag, dead letters, unpriced spans); 404 when absent. */
  readonly health?: (() => Promise<PipelineHealth>) | undefined;
  /** Serve the dashboard at `/` and `/ui/…` (default true). */
  readonly dashboard?: boolean | undefined;
  /**
   * Imported bills beside the spans for `GET /api/v1/reconcile`, at the list prices of the
   * snapshot the aggregator prices with; 404 when absent.
   */
  readonly reconcile?: { readonly bills: BillStore; readonly snapshot: () => PriceSnapshot } | undefined;
}

/** `/api/v1/top/<kind>` → the dimension it ranks. */
const TOP_KINDS: Readonly<Record<string, QueryDimension>> = {
  routes: 'route',
  commits: 'commit',
  traces: 'trace_id',
  services: 'service',
  models: 'model',
  tenants: 'tenant',
  teams: 'team',
};

/** The store's failures as HTTP: unavailable (retry later) is 503, anything else a 500. */
const storeErrors: ErrorMapper = (err) =>
  err instanceof StoreError && err.retryable
    ? new HttpError(503, 'UNAVAILABLE', 'ClickHouse is unavailable; retry later', {
        headers: { 'retry-after': '5' },
        cause: err,
      })
    : undefined;

/**
 * The aggregator's HTTP API: JSON cost queries, Prometheus metrics, liveness and readiness.
 *
 * - `GET /api/v1/costs?group_by=route,model&since=24h&tenant=acme&bucket=1h` — grouped and
 *   filtered cost, optional time series, with cost per request / per 1k requests / per 1M tokens.
 * - `GET /api/v1/top/{routes|commits|traces|services|models|tenants|teams}?since=…&limit=20`
 * - `GET /api/v1/top/spans?since=…&limit=20` — the most expensive single spans.
 * - `GET /api/v1/coverage?group_by=service,model,emitter&since=24h` — pricing coverage: the share
 *   of usage-bearing spans priced exactly, with upper bounds, unpriced spans, duplicates, roll-ups.
 * - `GET /api/v1/reconcile?since=30d&by=day,provider,model&provider=openai` — imported bills beside
 *   the spans: billed and traced usage and cost, the drift split into causes, proposed overrides.
 * - `GET /api/v1/health` — consumer lag per partition, dead letters, unpriced spans, spans in/out.
 * - `GET /metrics`, `/healthz`, `/readyz` — the service kit's ops endpoints.
 * - `GET /` — the dashboard (assets under `/ui/`), which reads the routes above.
 * Errors are the service kit's envelope; a bad parameter is 400 INVALID_QUERY naming it in `field`.
 */
export class QueryApiServer {
  private readonly server: Server;

  constructor(private readonly options: QueryApiServerOptions) {
    const mapError = options.mapError;
    const router = new Router({
      logger: options.logger,
      mapError: (err) => storeErrors(err) ?? mapError?.(err),
    });
    addOpsRoutes(router, { registry: options.registry, readiness: options.readiness });
    router
      .get('/api/v1/costs', (c) => this.costs(c))
      .get('/api/v1/coverage', (c) => this.coverage(c))
      .get('/api/v1/top/:kind', (c) => this.top(c));
    const reconcile = options.reconcile;
    if (reconcile !== undefined) router.get('/api/v1/reconcile', (c) => this.reconcile(c, reconcile));
    const health = options.health;
    if (health !== undefined) router.get('/api/v1/health', async ({ res }) => sendJson(res, 200, await health()));
    options.addRoutes?.(router);
    if (options.dashboard ?? true) addDashboardRoutes(router, createDashboardHandler());
    this.server = createServer(router.listener());
    this.server.keepAliveTimeout = 5_000;
  }

  listen(): Promise<AddressInfo> {
    return listenHttp(this.server, this.options.host, this.options.port);
  }

  close(): Promise<void> {
    return closeHttp(this.server);
  }

  private async costs({ res, url }: RouteContext): Promise<void> {
    const parsed = parseCostQuery(queryParams(url.searchParams), now());
    if (!parsed.ok) throw invalidQuery(parsed.parameter, parsed.message);
    const rows = await this.options.store.queryCosts(parsed.query);
    sendJson(res, 200, { query: parsed.query, rows } satisfies QueryResponse<CostRow>);
  }

  private async coverage({ res, url }: RouteContext): Promise<void> {
    const parsed = parseCoverageQuery(queryParams(url.searchParams), now());
    if (!parsed.ok) throw invalidQuery(parsed.parameter, parsed.message);
    sendJson(res, 200, {
      query: parsed.query,
      rows: await this.options.store.pricingCoverage(parsed.query),
    } satisfies QueryResponse<CoverageRow>);
  }

  private async reconcile(
    { res, url }: RouteContext,
    { bills, snapshot }: { readonly bills: BillStore; readonly snapshot: () => PriceSnapshot },
  ): Promise<void> {
    const parsed = parseReconcileQuery(queryParams(url.searchParams), now());
    if (!parsed.ok) throw invalidQuery(parsed.parameter, parsed.message);
    const report = await reconcileStored(bills, parsed.query, snapshot());
    sendJson(res, 200, {
      query: parsed.query,
      rows: report.rows.map(reconcileRowJson),
      total: report.total.map(reconcileRowJson),
      overrides: report.overrides,
      ...(report.compute === undefined ? {} : { compute: report.compute }),
      notes: report.notes,
    });
  }

  private async top({ res, url, params: { kind = '' } }: RouteContext): Promise<void> {
    const params = queryParams(url.searchParams);
    if (kind === 'spans') {
      const parsed = parseTopSpansQuery(params, now());
      if (!parsed.ok) throw invalidQuery(parsed.parameter, parsed.message);
      sendJson(res, 200, {
        query: parsed.query,
        rows: await this.options.store.topSpans(parsed.query),
      } satisfies QueryResponse<TopSpanRow>);
      return;
    }
    const dimension = TOP_KINDS[kind];
    if (dimension === undefined) {
      throw new HttpError(404, 'NOT_FOUND', `no top list ${kind}: use spans, ${Object.keys(TOP_KINDS).join(', ')}`);
    }
    if (params.has('group_by') || params.has('by'))
      throw invalidQuery('group_by', `top/${kind} groups by ${dimension}`);
    const withGroup = new Map(params);
    withGroup.set('group_by', [dimension]);
    if (!withGroup.has('limit')) withGroup.set('limit', ['20']);
    if (!withGroup.has('source')) withGroup.set('source', [dimension === 'trace_id' ? 'spans' : 'auto']);
    const parsed = parseCostQuery(withGroup, now());
    if (!parsed.ok) throw invalidQuery(parsed.parameter, parsed.message);
    sendJson(res, 200, {
      query: parsed.query,
      rows: await this.options.store.queryCosts(parsed.query),
    } satisfies QueryResponse<CostRow>);
  }
}

/** JSON has no bigint: token counts as decimal strings (they may pass 2^53). */
function reconcileRowJson(row: ReconcileRow): Record<string, unknown> {
  const tokens = (t: ReconcileRow['billedTokens']) => ({
    input: t.input.toString(),
    output: t.output.toString(),
    cacheRead: t.cacheRead.toString(),
    cacheWrite: t.cacheWrite.toString(),
  });
  return {
    ...row,
    billedTokens: tokens(row.billedTokens),
    tracedTokens: tokens(row.tracedTokens),
    billedRequests: row.billedRequests.toString(),
  };
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

function invalidQuery(parameter: string, message: string): HttpError {
  return new HttpError(400, 'INVALID_QUERY', message, { field: parameter });
}
