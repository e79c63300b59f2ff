import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDashboardHandler } from '../dashboard/dashboard-handler.js';
import type { DashboardHandler } from '../dashboard/dashboard-handler.js';
import { closeHttp, listenHttp } from '../http/http-server-lifecycle.js';
import type { PipelineHealth } from '../operations/pipeline-health.js';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { parseCostQuery, parseCoverageQuery, parseTopSpansQuery, queryParams, StoreError } from '@costtrace/store';
import type { CostStore, QueryDimension } from '@costtrace/store';
import type { CostRow, CoverageRow, QueryResponse, TopSpanRow } from '@costtrace/client';

export interface QueryApiServerOptions {
  readonly host: string;
  readonly port: number;
  readonly store: CostStore;
  readonly registry: Registry;
  readonly logger: Logger;
  /** Readiness: Kafka and ClickHouse reachable, consumer running. */
  readonly readiness: () => Promise<{ ready: boolean; checks: Record<string, boolean> }>;
  /** Further routes mounted in front of the query API (budgets, throttles); true when handled. */
  readonly routes?: ((req: IncomingMessage, res: ServerResponse) => Promise<boolean>) | undefined;
  /** Pipeline health for `GET /api/v1/health` (lag, dead letters, unpriced spans); 404 when absent. */
  readonly health?: (() => Promise<PipelineHealth>) | undefined;
  /** Serve the dashboard at `/` and `/ui/…` (default true). */
  readonly dashboard?: boolean | undefined;
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

/**
 * The aggregator's HTTP API: JSON cost queries, Prometheus metrics, liveness and readiness.
 *
 * - `GET /api/v1/costs?group_by=route,model&since=24h&tenant=acme&bucket=1h` — grouped and
 *   filtered cost, optional time series, with cost per request / per 1k requests / per 1M tokens.
 * - `GET /api/v1/top/{routes|commits|traces|services|models|tenants|teams}?since=…&limit=20`
 * - `GET /api/v1/top/spans?since=…&limit=20` — the most expensive single spans.
 * - `GET /api/v1/coverage?group_by=service,model,emitter&since=24h` — pricing coverage: the share
 *   of usage-bearing spans priced exactly, with upper bounds, unpriced spans, duplicates, roll-ups.
 * - `GET /api/v1/health` — consumer lag per partition, dead letters, unpriced spans, spans in/out.
 * - `GET /` — the dashboard (assets under `/ui/`), which reads the routes above.
 * Bad parameters get 400 with `{"error": {"parameter": …, "message": …}}`.
 */
export class QueryApiServer {
  private readonly server: Server;
  private readonly dashboard: DashboardHandler | undefined;

  constructor(private readonly options: QueryApiServerOptions) {
    this.dashboard = (options.dashboard ?? true) ? createDashboardHandler() : undefined;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        const unavailable = err instanceof StoreError && err.retryable;
        if (!unavailable) options.logger.error({ err }, 'query API request failed');
        if (!res.headersSent) {
          json(res, unavailable ? 503 : 500, {
            error: { message: unavailable ? 'ClickHouse is unavailable; retry later' : 'internal error' },
          });
        }
      });
    });
    this.server.keepAliveTimeout = 5_000;
  }

  listen(): Promise<AddressInfo> {
    return listenHttp(this.server, this.options.host, this.options.port);
  }

  close(): Promise<void> {
    return closeHttp(this.server);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.options.routes !== undefined && (await this.options.routes(req, res))) return;
    if (this.dashboard !== undefined && (await this.dashboard(req, res))) return;
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: { message: 'use GET' } });
    if (url.pathname === '/healthz') return json(res, 200, { status: 'ok' });
    if (url.pathname === '/readyz') {
      const readiness = await this.options.readiness();
      return json(res, readiness.ready ? 200 : 503, readiness);
    }
    if (url.pathname === '/api/v1/health' && this.options.health !== undefined) {
      return json(res, 200, await this.options.health());
    }
    if (url.pathname === '/metrics') {
      const body = await this.options.registry.metrics();
      res.writeHead(200, { 'content-type': this.options.registry.contentType });
      res.end(body);
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const params = queryParams(url.searchParams);
    if (url.pathname === '/api/v1/costs') {
      const parsed = parseCostQuery(params, now);
      if (!parsed.ok) return badRequest(res, parsed.parameter, parsed.message);
      const rows = await this.options.store.queryCosts(parsed.query);
      return json(res, 200, { query: parsed.query, rows } satisfies QueryResponse<CostRow>);
    }
    if (url.pathname === '/api/v1/coverage') {
      const parsed = parseCoverageQuery(params, now);
      if (!parsed.ok) return badRequest(res, parsed.parameter, parsed.message);
      return json(res, 200, {
        query: parsed.query,
        rows: await this.options.store.pricingCoverage(parsed.query),
      } satisfies QueryResponse<CoverageRow>);
    }
    const top = /^\/api\/v1\/top\/([a-z]+)$/.exec(url.pathname);
    if (top) {
      const kind = top[1]!;
      if (kind === 'spans') {
        const parsed = parseTopSpansQuery(params, now);
        if (!parsed.ok) return badRequest(res, parsed.parameter, parsed.message);
        return json(res, 200, {
          query: parsed.query,
          rows: await this.options.store.topSpans(parsed.query),
        } satisfies QueryResponse<TopSpanRow>);
      }
      const dimension = TOP_KINDS[kind];
      if (dimension === undefined) {
        return json(res, 404, {
          error: { message: `no top list ${kind}: use spans, ${Object.keys(TOP_KINDS).join(', ')}` },
        });
      }
      if (params.has('group_by') || params.has('by'))
        return badRequest(res, 'group_by', `top/${kind} groups by ${dimension}`);
      const withGroup = new Map(params);
      withGroup.set('group_by', [dimension]);
      if (!withGroup.has('limit')) withGroup.set('limit', ['20']);
      if (!withGroup.has('source')) withGroup.set('source', [dimension === 'trace_id' ? 'spans' : 'auto']);
      const parsed = parseCostQuery(withGroup, now);
      if (!parsed.ok) return badRequest(res, parsed.parameter, parsed.message);
      return json(res, 200, {
        query: parsed.query,
        rows: await this.options.store.queryCosts(parsed.query),
      } satisfies QueryResponse<CostRow>);
    }
    return json(res, 404, { error: { message: `no route ${url.pathname}` } });
  }
}

function badRequest(res: ServerResponse, parameter: string, message: string): void {
  json(res, 400, { error: { parameter, message } });
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}
