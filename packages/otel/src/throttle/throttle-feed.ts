import { context } from '@opentelemetry/api';
import type { DiagLogger } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { AggregatorClient, ApiError, parseThrottle, parseThrottleDocument } from '@costtrace/client';
import { backoffDelay } from '@costtrace/core';
import type { ServerSentEvent } from '@costtrace/client';
import { CostSdkError } from '../sdk-error.js';
import type { ThrottleSet } from './throttle-set.js';

export interface ThrottleFeedOptions {
  /** Aggregator base URL, e.g. "http://aggregator:8080". */
  readonly url: string;
  /** "stream" (SSE at /v1/throttles/stream, falls back to polling while it fails) or "poll". */
  readonly mode: 'stream' | 'poll';
  readonly pollIntervalMs: number;
  readonly requestTimeoutMs: number;
  /** Stream mode: reconnect when nothing (not even a keep-alive comment) arrived for this long. */
  readonly streamIdleMs: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly logger: DiagLogger;
}

/**
 * Keeps a ThrottleSet fresh from the aggregator: an SSE stream (`snapshot`, `engaged`,
 * `released` events) or polling `GET /v1/throttles`. Requests run with tracing suppressed;
 * timers are unref'd; failures are counted and logged once per outage.
 */
export class ThrottleFeed {
  private timer: NodeJS.Timeout | undefined;
  private abort: AbortController | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private lastStreamEvent = 0;
  private stopped = false;
  private failing = false;
  private streamFailures = 0;
  private readonly client: AggregatorClient;
  lastSuccess = 0;
  failures = 0;
  lastError: string | undefined;

  constructor(
    private readonly set: ThrottleSet,
    private readonly options: ThrottleFeedOptions,
  ) {
    // Every request runs with tracing suppressed: the feed's own HTTP calls are not the app's spans.
    this.client = new AggregatorClient({
      baseUrl: options.url,
      headers: options.headers,
      timeoutMs: options.requestTimeoutMs,
      fetch: (input, init) => context.with(suppressTracing(context.active()), () => fetch(input, init)),
    });
  }

  start(): void {
    if (this.options.mode === 'stream') {
      this.openStream();
      // A stream that stalls without closing (a proxy holding it open) is dropped and reopened.
      this.watchdog = setInterval(
        () => {
          if (this.abort !== undefined && Date.now() - this.lastStreamEvent > this.options.streamIdleMs) {
            this.abort.abort(new CostSdkError('THROTTLE_API', 'throttle stream idle; reconnecting'));
          }
        },
        Math.max(100, Math.floor(this.options.streamIdleMs / 3)),
      );
      this.watchdog.unref();
    } else void this.pollLoop();
  }

  private succeeded(): void {
    this.lastSuccess = Date.now();
    if (this.failing) this.options.logger.info('costtrace: throttle API reachable again');
    this.failing = false;
  }

  private failed(err: unknown): void {
    this.failures += 1;
    this.lastError = err instanceof Error ? err.message : String(err);
    if (!this.failing) {
      this.failing = true;
      this.options.logger.warn(`costtrace: throttle API unavailable (${this.lastError}); retrying`);
    }
  }

  /** One `GET /v1/throttles`; replaces the set. */
  async pollOnce(): Promise<void> {
    const doc = parseThrottleDocument(await this.client.throttles());
    this.set.replace(doc.throttles);
    this.succeeded();
  }

  private async pollLoop(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.pollOnce();
    } catch (err) {
      this.failed(err);
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.pollLoop(), this.options.pollIntervalMs);
    this.timer.unref();
  }

  private openStream(): void {
    if (this.stopped) return;
    const controller = new AbortController();
    this.abort = controller;
    this.lastStreamEvent = Date.now();
    const run = async (): Promise<void> => {
      for await (const event of await this.client.throttleStream(controller.signal)) {
        this.lastStreamEvent = Date.now();
        this.onEvent(event);
      }
      throw new CostSdkError('THROTTLE_API', 'throttle stream ended');
    };
    run().catch((err: unknown) => {
      if (this.abort === controller) this.abort = undefined;
      if (this.stopped) return;
      this.failed(err);
      this.streamFailures += 1;
      // While the stream is down, keep the set fresh by polling, then try the stream again.
      const delay = backoffDelay(
        { initialMs: this.options.pollIntervalMs, maxMs: Math.max(30_000, this.options.pollIntervalMs), jitter: 0.2 },
        this.streamFailures,
      );
      void this.pollOnce().catch((e: unknown) => this.failed(e));
      this.timer = setTimeout(() => this.openStream(), delay);
      this.timer.unref();
    });
  }

  /** Applies one SSE event; events without data are keep-alives. */
  private onEvent({ event, data }: ServerSentEvent): void {
    this.succeeded();
    this.streamFailures = 0;
    if (data === undefined) return;
    try {
      const payload: unknown = JSON.parse(data);
      if (event === 'snapshot' || event === 'message') this.set.replace(parseThrottleDocument(payload).throttles);
      else if (event === 'engaged') this.set.upsert(parseThrottle(payload));
      else if (event === 'released') {
        const id = (payload as { id?: unknown }).id;
        if (typeof id !== 'string') throw new ApiError('INVALID_RESPONSE', 'released event without "id"');
        this.set.release(id);
      }
    } catch (err) {
      this.failed(err);
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.watchdog !== undefined) clearInterval(this.watchdog);
    this.abort?.abort();
  }
}
