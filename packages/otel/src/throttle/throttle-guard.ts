import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, diag } from '@opentelemetry/api';
import type { DiagLogger } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { AggregatorClient, ApiError } from '@costtrace/client';
import type { PreflightDecision, PreflightRecord, PreflightRequest, Throttle } from '@costtrace/client';
import { CostSdkError, invalidOption } from '../sdk-error.js';
import { ThrottleFeed } from './throttle-feed.js';
import { ThrottleSet } from './throttle-set.js';

/** A request's attribution dimensions: tenant, team, feature, route, model, provider, … */
export type RequestDimensions = Record<string, string | undefined>;

export type GuardDecision =
  | { readonly action: 'allow' }
  | { readonly action: 'reject'; readonly throttle: Throttle | undefined; readonly retryAfterSeconds: number }
  | { readonly action: 'degrade'; readonly throttle: Throttle };

export interface DegradeContext<Req> {
  readonly request: Req;
  readonly throttle: Throttle;
  readonly dimensions: RequestDimensions;
}

export interface ThrottleGuardOptions<Req = IncomingMessage> {
  /** The aggregator's base URL (serves /v1/throttles). Default env COSTTRACE_THROTTLE_URL. */
  readonly url?: string | undefined;
  /** "stream" (SSE, default) or "poll". */
  readonly mode?: 'stream' | 'poll' | undefined;
  /** Poll period (and stream-down fallback). Default 5000 ms. */
  readonly pollIntervalMs?: number | undefined;
  readonly requestTimeoutMs?: number | undefined;
  /** Stream mode: reopen the stream after this long without an event or keep-alive. Default 45 000 ms. */
  readonly streamIdleMs?: number | undefined;
  /** Extra headers for the throttle API (e.g. authorization). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /**
   * When the throttle state is older than `maxStalenessMs` (or was never read): true (default)
   * lets requests through; false answers 503 with Retry-After.
   */
  readonly failOpen?: boolean | undefined;
  /** Default 30 000 ms. */
  readonly maxStalenessMs?: number | undefined;
  /** Retry-After for throttles without `until`, seconds. Default 30. */
  readonly retryAfterSeconds?: number | undefined;
  /**
   * The request's dimensions, merged over the defaults: tenant / team / feature from the
   * `x-costtrace-tenant` / `x-costtrace-team` / `x-costtrace-feature` headers or W3C baggage
   * (`costtrace.tenant`, `tenant.id`, …), route from the framework's matched route (else the
   * path), model from a parsed JSON body's "model".
   */
  readonly dimensions?: ((request: Req) => RequestDimensions) | undefined;
  /**
   * Called instead of rejecting, e.g. to route to a cheaper model. Return true when the request
   * may continue degraded; false to reject it with 429 after all.
   */
  readonly degrade?: ((ctx: DegradeContext<Req>) => boolean | Promise<boolean>) | undefined;
  /**
   * How long `preflight` waits for the aggregator's decision before it follows `preflightFailOpen`.
   * Default 10 000 ms.
   */
  readonly preflightTimeoutMs?: number | undefined;
  /**
   * What `preflight` answers when the aggregator cannot be asked: true allows the work, false
   * denies it. Default `failOpen`. A batch worker that must never start expensive work unchecked
   * sets false here while its request path keeps failing open.
   */
  readonly preflightFailOpen?: boolean | undefined;
  readonly logger?: DiagLogger | undefined;
  readonly env?: NodeJS.ProcessEnv | undefined;
}

export interface PreflightCallOptions {
  /** This call's timeout in place of `preflightTimeoutMs`. */
  readonly timeoutMs?: number | undefined;
  /** Cancels the call; it then rejects with the signal's reason instead of degrading. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * What `guard.preflight` answers: the aggregator's decision and record, or, when the aggregator
 * could not be asked (unreachable, timed out, busy, an answer that is not a record), the guard's
 * `failOpen` choice (`allow` or `deny`) with `degraded: true` and the error in `cause`.
 */
export type PreflightOutcome =
  | {
      readonly decision: PreflightDecision;
      readonly record: PreflightRecord;
      readonly degraded: false;
    }
  | {
      readonly decision: 'allow' | 'deny';
      readonly record: undefined;
      readonly degraded: true;
      readonly cause: Error;
    };

interface RequestLike {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly url?: string | undefined;
  readonly body?: unknown;
}

const BAGGAGE_KEYS: Readonly<Record<string, readonly string[]>> = {
  tenant: ['costtrace.tenant', 'tenant.id'],
  team: ['costtrace.team', 'team.id'],
  feature: ['costtrace.feature', 'feature.id'],
};

function header(req: RequestLike, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function baggageEntries(req: RequestLike): Map<string, string> {
  const out = new Map<string, string>();
  const raw = header(req, 'baggage');
  if (raw === undefined) return out;
  for (const member of raw.split(',')) {
    const [pair] = member.split(';');
    const eq = pair?.indexOf('=') ?? -1;
    if (pair === undefined || eq <= 0) continue;
    try {
      out.set(decodeURIComponent(pair.slice(0, eq).trim()), decodeURIComponent(pair.slice(eq + 1).trim()));
    } catch {
      // Malformed percent-encoding: skip that member, as the W3C propagator does.
    }
  }
  return out;
}

/** Default dimensions of a request (see ThrottleGuardOptions.dimensions). */
export function defaultRequestDimensions(req: RequestLike, route: string | undefined): RequestDimensions {
  const baggage = baggageEntries(req);
  const dims: RequestDimensions = {};
  for (const [name, keys] of Object.entries(BAGGAGE_KEYS)) {
    dims[name] = header(req, `x-costtrace-${name}`) ?? keys.map((k) => baggage.get(k)).find((v) => v !== undefined);
  }
  dims.route = route ?? (req.url === undefined ? undefined : req.url.split('?')[0]);
  const body = req.body;
  if (typeof body === 'object' && body !== null && typeof (body as { model?: unknown }).model === 'string') {
    dims.model = (body as { model: string }).model;
  }
  return dims;
}

type NodeHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

interface ReplyLike {
  code(status: number): ReplyLike;
  header(name: string, value: string): ReplyLike;
  send(payload: unknown): unknown;
}

/**
 * Answers 429 (with Retry-After) for requests that fall in a throttle the aggregator reports, or
 * lets a degrade hook handle them. Framework-agnostic core (`decide`) with thin adapters for
 * node:http (`wrap`, `handle`), Express (`express()`) and Fastify (`fastify()`).
 */
export class ThrottleGuard<Req = IncomingMessage> {
  private readonly set = new ThrottleSet();
  private readonly feed: ThrottleFeed | undefined;
  private readonly failOpen: boolean;
  private readonly preflightFailOpen: boolean;
  private readonly maxStalenessMs: number;
  private readonly retryAfterSeconds: number;
  private readonly dimensionsOf: ((request: Req) => RequestDimensions) | undefined;
  private readonly degradeHook: ((ctx: DegradeContext<Req>) => boolean | Promise<boolean>) | undefined;
  private readonly logger: DiagLogger;
  private readonly preflightClient: AggregatorClient | undefined;
  private readonly preflightOptions: { readonly url: string; readonly headers: Readonly<Record<string, string>> };
  private readonly preflightTimeoutMs: number;
  private started = false;
  private rejected = 0;
  private degraded = 0;
  private preflightDegraded = 0;
  private preflightFailing = false;

  constructor(options: ThrottleGuardOptions<Req> = {}) {
    const env = options.env ?? process.env;
    const url = options.url ?? (env.COSTTRACE_THROTTLE_URL?.trim() || undefined);
    if (url !== undefined && !/^https?:\/\/[^\s]+$/.test(url)) {
      throw invalidOption(
        'url',
        `is ${JSON.stringify(url)}`,
        'use the aggregator base URL, e.g. "http://aggregator:8080"',
      );
    }
    const mode = options.mode ?? 'stream';
    if (mode !== 'stream' && mode !== 'poll')
      throw invalidOption('mode', `is ${JSON.stringify(mode)}`, "use 'stream' or 'poll'");
    const pollIntervalMs = options.pollIntervalMs ?? 5_000;
    if (!(pollIntervalMs >= 100)) throw invalidOption('pollIntervalMs', `is ${pollIntervalMs}`, 'use at least 100 ms');
    const maxStalenessMs = options.maxStalenessMs ?? 30_000;
    if (!(maxStalenessMs >= pollIntervalMs)) {
      throw invalidOption('maxStalenessMs', `is ${maxStalenessMs}`, `use at least pollIntervalMs (${pollIntervalMs})`);
    }
    const retryAfter = options.retryAfterSeconds ?? 30;
    if (!Number.isInteger(retryAfter) || retryAfter < 1) {
      throw invalidOption('retryAfterSeconds', `is ${retryAfter}`, 'use a whole number of seconds ≥ 1');
    }
    const preflightTimeoutMs = options.preflightTimeoutMs ?? 10_000;
    if (!Number.isInteger(preflightTimeoutMs) || preflightTimeoutMs < 1) {
      throw invalidOption('preflightTimeoutMs', `is ${preflightTimeoutMs}`, 'use a whole number of milliseconds ≥ 1');
    }
    this.failOpen = options.failOpen ?? true;
    this.preflightFailOpen = options.preflightFailOpen ?? this.failOpen;
    this.maxStalenessMs = maxStalenessMs;
    this.retryAfterSeconds = retryAfter;
    this.dimensionsOf = options.dimensions;
    this.degradeHook = options.degrade;
    this.logger = options.logger ?? diag;
    this.feed =
      url === undefined
        ? undefined
        : new ThrottleFeed(this.set, {
            url,
            mode,
            pollIntervalMs,
            requestTimeoutMs: options.requestTimeoutMs ?? 2_000,
            streamIdleMs: options.streamIdleMs ?? 45_000,
            headers: options.headers ?? {},
            logger: this.logger,
          });
    if (url === undefined) this.logger.info('costtrace: throttle guard has no url; it lets every request through');
    this.preflightTimeoutMs = preflightTimeoutMs;
    this.preflightOptions = { url: url ?? '', headers: options.headers ?? {} };
    this.preflightClient = url === undefined ? undefined : this.preflightClientFor(preflightTimeoutMs);
  }

  /** A client whose requests run with tracing suppressed: the guard's calls are not the app's spans. */
  private preflightClientFor(timeoutMs: number): AggregatorClient {
    return new AggregatorClient({
      baseUrl: this.preflightOptions.url,
      headers: this.preflightOptions.headers,
      timeoutMs,
      fetch: (input, init) => context.with(suppressTracing(context.active()), () => fetch(input, init)),
    });
  }

  /** Starts following the throttle API (once). */
  start(): this {
    if (!this.started) {
      this.started = true;
      this.feed?.start();
    }
    return this;
  }

  /** Resolves once the throttle state has been read, or false after timeoutMs. */
  async ready(timeoutMs = 5_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.feed !== undefined && this.feed.lastSuccess === 0) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 20).unref());
    }
    return true;
  }

  /** Currently active throttles (a copy). */
  throttles(): Throttle[] {
    return this.set.all();
  }

  stats(): {
    active: number;
    rejected: number;
    degraded: number;
    apiFailures: number;
    lastError: string | undefined;
    preflightDegraded: number;
  } {
    return {
      active: this.set.size,
      rejected: this.rejected,
      degraded: this.degraded,
      apiFailures: this.feed?.failures ?? 0,
      lastError: this.feed?.lastError,
      preflightDegraded: this.preflightDegraded,
    };
  }

  /**
   * Asks the aggregator before an expensive operation (`POST /v1/preflight`): it prices the plan
   * and answers `allow` (the amount reserved against the budgets), `needs_approval` or `deny`.
   * When the aggregator cannot be asked (unreachable, no answer within the timeout, 429/5xx, an
   * answer that is not a record, or no `url`) the outcome follows `failOpen`: `allow` (default)
   * or `deny`, with `degraded: true`; each such call is counted (`stats().preflightDegraded`) and
   * the first of an outage logs one warning. A request the aggregator refuses (400 invalid plan,
   * 401/403, 404) rejects with CostSdkError PREFLIGHT_API. The call runs with tracing suppressed.
   */
  async preflight(request: PreflightRequest, options: PreflightCallOptions = {}): Promise<PreflightOutcome> {
    const timeoutMs = options.timeoutMs ?? this.preflightTimeoutMs;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) {
      throw invalidOption('timeoutMs', `is ${timeoutMs}`, 'use a whole number of milliseconds ≥ 1');
    }
    if (this.preflightClient === undefined) {
      return this.preflightDegradedOutcome(
        new CostSdkError('PREFLIGHT_UNAVAILABLE', 'the throttle guard has no url (or COSTTRACE_THROTTLE_URL)'),
      );
    }
    const client = timeoutMs === this.preflightTimeoutMs ? this.preflightClient : this.preflightClientFor(timeoutMs);
    let record: PreflightRecord;
    try {
      record = await client.preflight(request, { signal: options.signal });
    } catch (err) {
      if (options.signal?.aborted === true) throw err;
      if (!(err instanceof ApiError)) throw err;
      if (err.retryable || err.code === 'INVALID_RESPONSE') return this.preflightDegradedOutcome(err);
      throw new CostSdkError('PREFLIGHT_API', `preflight refused: ${err.message}`, { cause: err });
    }
    if (this.preflightFailing) this.logger.info('costtrace: preflight API reachable again');
    this.preflightFailing = false;
    return { decision: record.decision, record, degraded: false };
  }

  private preflightDegradedOutcome(cause: Error): PreflightOutcome {
    this.preflightDegraded += 1;
    const decision = this.preflightFailOpen ? 'allow' : 'deny';
    if (!this.preflightFailing) {
      this.preflightFailing = true;
      this.logger.warn(
        `costtrace: preflight could not ask the aggregator (${cause.message}); ` +
          `${decision === 'allow' ? 'allowing (preflightFailOpen)' : 'denying (preflightFailOpen: false)'} until it answers again`,
      );
    }
    return { decision, record: undefined, degraded: true, cause };
  }

  /**
   * `preflight`, for code that must not start what is not allowed: resolves the record when the
   * work is allowed (undefined only when the aggregator could not be asked and the guard fails
   * open), and rejects with a CostSdkError otherwise: PREFLIGHT_NEEDS_APPROVAL or
   * PREFLIGHT_DENIED carrying the record (`err.preflight`), PREFLIGHT_UNAVAILABLE when it fails
   * closed, PREFLIGHT_API when the aggregator refused the request.
   */
  async requirePreflight(
    request: PreflightRequest,
    options: PreflightCallOptions = {},
  ): Promise<PreflightRecord | undefined> {
    const outcome = await this.preflight(request, options);
    if (outcome.degraded) {
      if (outcome.decision === 'allow') return undefined;
      throw new CostSdkError(
        'PREFLIGHT_UNAVAILABLE',
        `preflight could not ask the aggregator (${outcome.cause.message}); failing closed`,
        { cause: outcome.cause },
      );
    }
    const record = outcome.record;
    if (outcome.decision === 'allow') return record;
    const why = record.reasons.map((r) => r.detail).join('; ') || 'no reason given';
    if (outcome.decision === 'needs_approval') {
      throw new CostSdkError(
        'PREFLIGHT_NEEDS_APPROVAL',
        `preflight ${record.id} (${record.amount_usd} ${record.currency}) needs approval: ${why}`,
        { preflight: record },
      );
    }
    throw new CostSdkError(
      'PREFLIGHT_DENIED',
      `preflight ${record.id} (${record.amount_usd} ${record.currency}) denied: ${why}`,
      { preflight: record },
    );
  }

  /** The decision for a request with these dimensions. Synchronous, no I/O. */
  decide(dimensions: RequestDimensions, now = Date.now()): GuardDecision {
    if (this.feed !== undefined && now - this.feed.lastSuccess > this.maxStalenessMs && !this.failOpen) {
      return { action: 'reject', throttle: undefined, retryAfterSeconds: Math.ceil(this.maxStalenessMs / 1000) };
    }
    const throttle = this.set.match(dimensions, now);
    if (throttle === undefined) return { action: 'allow' };
    if (this.degradeHook !== undefined) return { action: 'degrade', throttle };
    const retry =
      throttle.until === undefined ? this.retryAfterSeconds : Math.max(1, Math.ceil((throttle.until - now) / 1000));
    return { action: 'reject', throttle, retryAfterSeconds: retry };
  }

  /**
   * Decides for a request, running the degrade hook where one is set. Resolves the HTTP answer
   * to send (status, headers, JSON body), or undefined to let the request through.
   */
  async evaluate(
    request: Req,
    defaults: RequestDimensions,
  ): Promise<{ status: number; headers: Record<string, string>; body: string } | undefined> {
    let dimensions = defaults;
    try {
      if (this.dimensionsOf !== undefined) dimensions = { ...defaults, ...this.dimensionsOf(request) };
    } catch (err) {
      this.logger.warn('costtrace: throttle guard dimensions() threw; using the defaults', err);
    }
    let decision = this.decide(dimensions);
    if (decision.action === 'degrade') {
      let handled = false;
      try {
        handled = (await this.degradeHook?.({ request, throttle: decision.throttle, dimensions })) === true;
      } catch (err) {
        this.logger.warn('costtrace: throttle guard degrade hook threw; rejecting the request', err);
      }
      if (handled) {
        this.degraded += 1;
        return undefined;
      }
      const t = decision.throttle;
      decision = {
        action: 'reject',
        throttle: t,
        retryAfterSeconds:
          t.until === undefined ? this.retryAfterSeconds : Math.max(1, Math.ceil((t.until - Date.now()) / 1000)),
      };
    }
    if (decision.action === 'allow') return undefined;
    this.rejected += 1;
    const t = decision.throttle;
    const body =
      t === undefined
        ? { error: 'throttle_state_unknown', message: 'budget throttle state unavailable; failing closed' }
        : {
            error: 'budget_throttled',
            message: `budget ${t.budgetId} is over its limit for this scope`,
            budgetId: t.budgetId,
            scope: t.scope,
            until: t.until === undefined ? null : new Date(t.until).toISOString(),
          };
    return {
      status: t === undefined ? 503 : 429,
      headers: { 'retry-after': String(decision.retryAfterSeconds), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    };
  }

  /** node:http: answers and resolves true when the request was throttled; false to go on. */
  async handle(this: ThrottleGuard<IncomingMessage>, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const answer = await this.evaluate(req, defaultRequestDimensions(req, undefined));
    if (answer === undefined) return false;
    res.writeHead(answer.status, answer.headers).end(answer.body);
    return true;
  }

  /** node:http: wraps a request handler. */
  wrap(this: ThrottleGuard<IncomingMessage>, handler: NodeHandler): NodeHandler {
    return (req, res) => {
      this.handle(req, res).then(
        (throttled) => (throttled ? undefined : handler(req, res)),
        (err: unknown) => {
          this.logger.warn('costtrace: throttle guard failed; letting the request through', err);
          return handler(req, res);
        },
      );
    };
  }

  /**
   * Express middleware. Mount it per route (`app.post('/v1/chat', express.json(), guard.express(), …)`)
   * so `route` is the matched pattern and `model` comes from the parsed body.
   */
  express(): (req: Req, res: ServerResponse, next: (err?: unknown) => void) => void {
    return (req, res, next) => {
      const r = req as unknown as RequestLike & { route?: { path?: unknown }; baseUrl?: string; originalUrl?: string };
      const route = typeof r.route?.path === 'string' ? `${r.baseUrl ?? ''}${r.route.path}` : undefined;
      const defaults = defaultRequestDimensions({ ...r, headers: r.headers, url: r.originalUrl ?? r.url }, route);
      this.evaluate(req, defaults).then(
        (answer) => {
          if (answer === undefined) next();
          else res.writeHead(answer.status, answer.headers).end(answer.body);
        },
        () => next(),
      );
    };
  }

  /**
   * Fastify hook: `app.addHook('preHandler', guard.fastify())` (body parsed, so `model` is known)
   * or 'onRequest'. `route` is the matched route pattern.
   */
  fastify(): (request: Req, reply: ReplyLike) => Promise<unknown> {
    return async (request, reply) => {
      const r = request as unknown as RequestLike & { routeOptions?: { url?: string } };
      const answer = await this.evaluate(request, defaultRequestDimensions(r, r.routeOptions?.url));
      if (answer === undefined) return undefined;
      let out = reply.code(answer.status);
      for (const [name, value] of Object.entries(answer.headers)) out = out.header(name, value);
      out.send(answer.body);
      return out; // an async hook that replied must return the reply
    };
  }

  /** Stops following the throttle API. Idempotent. */
  shutdown(): Promise<void> {
    this.feed?.stop();
    return Promise.resolve();
  }
}

/** Creates (and starts) a throttle guard. See ThrottleGuardOptions and the throttle API in docs/sdk.md. */
export function createThrottleGuard<Req = IncomingMessage>(
  options: ThrottleGuardOptions<Req> = {},
): ThrottleGuard<Req> {
  return new ThrottleGuard<Req>(options).start();
}
