import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Span, Tracer } from '@opentelemetry/api';
import { defaultRequestDimensions } from '@costtrace/otel';
import type { ThrottleGuard } from '@costtrace/otel';
import { addOpsRoutes, HttpError, Router, sendError } from '@costtrace/service-kit';
import type { RouteContext } from '@costtrace/service-kit';
import type { Logger } from 'pino';
import { MODELS, ROUTES } from './catalog.js';
import type { HostedModel, RouteProfile, SelfHostedModel } from './catalog.js';
import type { DemoConfig } from './config.js';
import type { DemoMetrics } from './demo-metrics.js';
import { GpuBatcher, GpuQueueFullError } from './gpu-batcher.js';
import { sampleUsage, seededRandom, sleep } from './inference-simulator.js';

const MAX_BODY_BYTES = 1 << 20;

export interface DemoAppDeps {
  readonly tracer: Tracer;
  readonly logger: Logger;
  /** Throttle guard; undefined: nothing is throttled. */
  readonly guard?: ThrottleGuard | undefined;
  /** Prometheus metrics served on GET /metrics; undefined: no /metrics. */
  readonly metrics?: DemoMetrics | undefined;
}

interface RequestBody {
  readonly model?: unknown;
  readonly prompt?: unknown;
  readonly input?: unknown;
  readonly max_tokens?: unknown;
}

const getter = {
  get: (headers: IncomingMessage['headers'], key: string) => {
    const value = headers[key];
    return Array.isArray(value) ? value[0] : value;
  },
  keys: (headers: IncomingMessage['headers']) => Object.keys(headers),
};

/**
 * An HTTP service that behaves like an LLM/GPU inference API: OpenAI-style chat completions,
 * summarisation, self-hosted generation and embeddings on batched GPUs. Every request is a
 * SERVER span; every model call a CLIENT span with GenAI usage (hosted models) or GPU time
 * (self-hosted), which the CostSpanProcessor prices. Obeys the throttle guard: 429 with
 * Retry-After, or a cheaper model when the throttle asks to degrade.
 */
export class DemoApp {
  private server: Server | undefined;
  private readonly random: () => number;
  private readonly batcher: GpuBatcher;
  private readonly router: Router;
  private inFlight = 0;
  private stopping = false;
  private warnedQueueFull = false;
  readonly counts = { requests: 0, throttled: 0, degraded: 0, errors: 0 };

  constructor(
    private readonly config: DemoConfig,
    private readonly deps: DemoAppDeps,
  ) {
    this.random = seededRandom(config.seed);
    this.batcher = new GpuBatcher(
      (model) => deps.metrics?.gpuBatches.inc({ model }),
      deps.tracer,
      config.gpuType,
      config.batchWindowMs,
      config.maxBatchSize,
      config.latencyScale,
    );
    this.router = addOpsRoutes(new Router({ logger: deps.logger }), {
      registry: deps.metrics?.registry,
      readiness: () => ({ ready: !this.stopping, stopping: this.stopping }),
    });
    for (const profile of ROUTES) this.router.post(profile.route, (c) => this.request(profile, c));
  }

  async start(): Promise<string> {
    const server = createServer(this.router.listener());
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.httpPort, this.config.httpHost, () => resolve());
    });
    const { address, port } = server.address() as AddressInfo;
    const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
    this.deps.logger.info({ url }, 'demo-inference listening');
    return url;
  }

  /** Stops accepting, waits (bounded) for in-flight requests. Idempotent. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const server = this.server;
    if (server === undefined) return;
    const closed = new Promise((resolve) => server.close(resolve));
    this.batcher.drain(Object.values(MODELS).filter((m): m is SelfHostedModel => m.kind === 'self-hosted'));
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight > 0 && Date.now() < deadline) await sleep(20);
    server.closeAllConnections();
    await closed;
  }

  private async request(profile: RouteProfile, { req, res }: RouteContext): Promise<void> {
    this.inFlight += 1;
    this.counts.requests += 1;
    // Incoming W3C trace context and baggage (a tenant set at the edge reaches every child span).
    const parent = propagation.extract(context.active(), req.headers, getter);
    const span = this.deps.tracer.startSpan(
      `POST ${profile.route}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'POST', 'http.route': profile.route } },
      parent,
    );
    try {
      await context.with(trace.setSpan(parent, span), () => this.serve(req, res, profile, span));
    } catch (err) {
      const answer =
        err instanceof HttpError
          ? err
          : err instanceof GpuQueueFullError
            ? new HttpError(503, 'GPU_QUEUE_FULL', err.message, { headers: { 'retry-after': '1' } })
            : new HttpError(500, 'INTERNAL', 'internal error');
      const status = answer.status;
      if (err instanceof GpuQueueFullError && !this.warnedQueueFull) {
        this.warnedQueueFull = true;
        this.deps.logger.warn({ route: profile.route }, `${err.message}; answering 503, further ones only counted`);
      }
      if (status >= 500 && status !== 503) {
        this.counts.errors += 1;
        this.deps.logger.error({ err, route: profile.route }, 'request failed');
      }
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      if (!res.headersSent) sendError(res, answer);
    } finally {
      span.setAttribute('http.response.status_code', res.statusCode);
      span.end();
      this.deps.metrics?.requests.inc({ route: profile.route, status: String(res.statusCode) });
      this.inFlight -= 1;
    }
  }

  private async serve(req: IncomingMessage, res: ServerResponse, profile: RouteProfile, span: Span): Promise<void> {
    const body = await readJson(req);
    let modelName = typeof body.model === 'string' ? body.model : profile.defaultModel;
    if (!profile.models.includes(modelName)) {
      throw new HttpError(
        400,
        'INVALID_MODEL',
        `model ${JSON.stringify(modelName)} is not served on ${profile.route}`,
        {
          field: 'model',
        },
      );
    }
    const dims = defaultRequestDimensions(req, profile.route);
    const tenant = dims.tenant ?? 'anonymous';
    span.setAttributes({
      'costtrace.tenant': tenant,
      ...(dims.team !== undefined ? { 'costtrace.team': dims.team } : {}),
      'costtrace.feature': profile.route.slice(4),
    });
    const guard = this.deps.guard;
    if (guard !== undefined) {
      const answer = await guard.evaluate(req, { ...dims, tenant, model: modelName });
      if (answer !== undefined) {
        this.counts.throttled += 1;
        this.deps.metrics?.throttled.inc({ route: profile.route, outcome: 'rejected' });
        span.setAttribute('costtrace.throttled', true);
        res.writeHead(answer.status, answer.headers).end(answer.body);
        return;
      }
      // The guard's degrade hook (main.ts) marks the request; switch to the cheaper model.
      const degradedTo = (req as IncomingMessage & { degradedModel?: string }).degradedModel;
      if (degradedTo !== undefined) {
        this.counts.degraded += 1;
        this.deps.metrics?.throttled.inc({ route: profile.route, outcome: 'degraded' });
        span.setAttribute('costtrace.degraded_from', modelName);
        modelName = degradedTo;
      }
    }
    const model = MODELS[modelName];
    if (model === undefined)
      throw new HttpError(400, 'INVALID_MODEL', `unknown model ${modelName}`, { field: 'model' });
    const usage = sampleUsage(this.random, profile, modelName, {
      prompt: typeof body.prompt === 'string' ? body.prompt : typeof body.input === 'string' ? body.input : undefined,
      maxTokens: typeof body.max_tokens === 'number' ? body.max_tokens : undefined,
    });
    const operation = profile.route === '/v1/embeddings' ? 'embeddings' : 'chat';
    const call = this.deps.tracer.startSpan(`${operation} ${modelName}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        'gen_ai.operation.name': operation,
        'gen_ai.provider.name': model.kind === 'hosted' ? model.provider : 'self-hosted',
        'gen_ai.request.model': modelName,
      },
    });
    let batch: { size: number; gpuSeconds: number } | undefined;
    this.deps.metrics?.modelCalls.inc({ model: modelName });
    try {
      if (model.kind === 'hosted') await this.callHosted(model, usage.outputTokens);
      else batch = await this.batcher.run(model, call, usage.promptTokens + usage.outputTokens);
      call.setAttributes({
        'gen_ai.response.model': modelName,
        'gen_ai.usage.input_tokens': usage.promptTokens,
        'gen_ai.usage.output_tokens': usage.outputTokens,
        ...(usage.cachedTokens > 0 ? { 'gen_ai.usage.cache_read.input_tokens': usage.cachedTokens } : {}),
        ...(usage.reasoningTokens > 0 ? { 'gen_ai.usage.reasoning.output_tokens': usage.reasoningTokens } : {}),
      });
    } finally {
      call.end();
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        object: operation === 'embeddings' ? 'list' : 'chat.completion',
        model: modelName,
        usage: {
          prompt_tokens: usage.promptTokens,
          completion_tokens: usage.outputTokens,
          prompt_tokens_details: { cached_tokens: usage.cachedTokens },
          completion_tokens_details: { reasoning_tokens: usage.reasoningTokens },
        },
        ...(batch !== undefined ? { gpu: { batch_size: batch.size, batch_gpu_seconds: batch.gpuSeconds } } : {}),
      }),
    );
  }

  private async callHosted(model: HostedModel, outputTokens: number): Promise<void> {
    const seconds = model.ttftS * (0.7 + this.random() * 0.6) + outputTokens / model.tokensPerS;
    await sleep(seconds * 1000 * this.config.latencyScale);
  }
}

async function readJson(req: IncomingMessage): Promise<RequestBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'TOO_LARGE', `body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  if (size === 0) return {};
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
    return parsed;
  } catch {
    throw new HttpError(400, 'INVALID_JSON', 'body must be a JSON object');
  }
}

/** The cheaper model the degrade hook switches to, if any. */
export function cheaperModel(model: string | undefined): string | undefined {
  const entry = model === undefined ? undefined : MODELS[model];
  return entry?.kind === 'hosted' ? entry.cheaper : undefined;
}
