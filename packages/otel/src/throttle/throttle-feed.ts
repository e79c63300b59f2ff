import { context } from '@opentelemetry/api';
import type { DiagLogger } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { CostSdkError } from '../sdk-error.js';
import { parseThrottle, parseThrottleDocument } from './throttle-set.js';
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
  lastSuccess = 0;
  failures = 0;
  lastError: string | undefined;

  constructor(
    private readonly set: ThrottleSet,
    private readonly options: ThrottleFeedOptions,
  ) {}

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

  private endpoint(path: string): string {
    return new URL(path, this.options.url.endsWith('/') ? this.options.url : `${this.options.url}/`).toString();
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
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(), this.options.requestTimeoutMs);
    timeout.unref();
    try {
      const response = await context.with(suppressTracing(context.active()), () =>
        fetch(this.endpoint('v1/throttles'), {
          headers: { accept: 'application/json', ...this.options.headers },
          signal: controller.signal,
        }),
      );
      if (!response.ok) throw new CostSdkError('THROTTLE_API', `GET /v1/throttles answered ${response.status}`);
      const doc = parseThrottleDocument(await response.json());
      this.set.replace(doc.throttles);
      this.succeeded();
    } finally {
      clearTimeout(timeout);
    }
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
      const response = await context.with(suppressTracing(context.active()), () =>
        fetch(this.endpoint('v1/throttles/stream'), {
          headers: { accept: 'text/event-stream', ...this.options.headers },
          signal: controller.signal,
        }),
      );
      if (!response.ok || response.body === null) {
        throw new CostSdkError('THROTTLE_API', `GET /v1/throttles/stream answered ${response.status}`);
      }
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        this.lastStreamEvent = Date.now();
        buffer += value;
        let end = buffer.search(/\r?\n\r?\n/);
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(buffer[end] === '\r' ? end + 4 : end + 2);
          this.onEvent(block);
          end = buffer.search(/\r?\n\r?\n/);
        }
      }
      throw new CostSdkError('THROTTLE_API', 'throttle stream ended');
    };
    run().catch((err: unknown) => {
      if (this.abort === controller) this.abort = undefined;
      if (this.stopped) return;
      this.failed(err);
      this.streamFailures += 1;
      // While the stream is down, keep the set fresh by polling, then try the stream again.
      const delay = Math.min(30_000, this.options.pollIntervalMs * Math.min(this.streamFailures, 6));
      void this.pollOnce().catch((e: unknown) => this.failed(e));
      this.timer = setTimeout(() => this.openStream(), delay);
      this.timer.unref();
    });
  }

  /** Applies one SSE event block ("event: …\ndata: …"). Comment lines are keep-alives. */
  private onEvent(block: string): void {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    this.succeeded();
    this.streamFailures = 0;
    if (data.length === 0) return;
    try {
      const payload: unknown = JSON.parse(data.join('\n'));
      if (event === 'snapshot' || event === 'message') this.set.replace(parseThrottleDocument(payload).throttles);
      else if (event === 'engaged') this.set.upsert(parseThrottle(payload));
      else if (event === 'released') {
        const id = (payload as { id?: unknown }).id;
        if (typeof id !== 'string') throw new CostSdkError('THROTTLE_API', 'released event without "id"');
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
