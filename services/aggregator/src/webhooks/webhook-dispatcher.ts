import type { Logger } from 'pino';
import type { RetryPolicy } from './retry-policy.js';
import { DEFAULT_RETRY_POLICY, nextAttemptAt } from './retry-policy.js';
import type { WebhookEndpoint } from './webhook-endpoint.js';
import type { WebhookEvent } from './webhook-event.js';
import type { Delivery, WebhookOutbox } from './webhook-outbox.js';
import type { WebhookSender } from './webhook-sender.js';
import { signatureHeader } from './webhook-signing.js';

export interface DispatcherOptions {
  readonly outbox: WebhookOutbox;
  readonly sender: WebhookSender;
  /** Current endpoints by id (they can change at runtime). */
  readonly endpoints: () => ReadonlyMap<string, WebhookEndpoint>;
  readonly logger: Logger;
  readonly retry?: Partial<RetryPolicy> | undefined;
  /** Deliveries in flight at once. */
  readonly concurrency?: number | undefined;
  readonly now?: () => number;
}

/**
 * Delivers the outbox: each (event, endpoint) is POSTed with Standard Webhooks headers, signed
 * with every active secret of the endpoint. Only 2xx is success. Failures are retried per the
 * RetryPolicy; after the last one the delivery is dead-lettered and the endpoint disabled; a
 * 410 Gone disables the endpoint at once. Every attempt is written to the outbox before the next
 * is scheduled, so a crash resumes where it stopped.
 */
export class WebhookDispatcher {
  private readonly retry: RetryPolicy;
  private readonly concurrency: number;
  private readonly inFlight = new Set<string>();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private running = false;
  private pumping: Promise<void> | undefined;
  private readonly sends = new Set<Promise<void>>();
  delivered = 0;
  failedAttempts = 0;
  /** Deliveries dead-lettered after their last attempt (exported as a metric by AggregatorMetrics). */
  deadLettered = 0;

  constructor(private readonly options: DispatcherOptions) {
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.concurrency = options.concurrency ?? 16;
    this.now = options.now ?? Date.now;
  }

  start(): void {
    this.running = true;
    this.wake();
  }

  /** Adds an event for its endpoints (durably) and starts delivering it. */
  async publish(event: WebhookEvent, endpointIds: readonly string[]): Promise<boolean> {
    const added = await this.options.outbox.enqueue(event, endpointIds);
    if (added) {
      for (const ep of endpointIds) {
        if (this.options.outbox.endpointState(ep).disabled)
          await this.options.outbox.markDead(event.id, ep, 'endpoint_disabled');
      }
      this.wake();
    }
    return added;
  }

  /** Re-schedules an event (manual replay) and delivers it. */
  async replay(eventId: string, endpointId?: string): Promise<Delivery[]> {
    if (endpointId !== undefined && this.options.outbox.endpointState(endpointId).disabled) {
      await this.options.outbox.setEndpointDisabled(endpointId, false, null);
    }
    const out = await this.options.outbox.replay(eventId, endpointId);
    this.wake();
    return out;
  }

  async enableEndpoint(endpointId: string): Promise<void> {
    await this.options.outbox.setEndpointDisabled(endpointId, false, null);
  }

  /** Checks for due deliveries now. */
  wake(): void {
    if (!this.running) return;
    this.pumping ??= this.pump().finally(() => {
      this.pumping = undefined;
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.pumping;
    await Promise.all([...this.sends]);
  }

  private async pump(): Promise<void> {
    const now = this.now();
    for (const d of this.options.outbox.due(now)) {
      if (!this.running || this.inFlight.size >= this.concurrency) break;
      const k = `${d.eventId}\u0000${d.endpointId}`;
      if (this.inFlight.has(k)) continue;
      this.inFlight.add(k);
      const p = this.deliver(d)
        .catch((err: unknown) =>
          this.options.logger.error(
            { err, eventId: d.eventId, endpoint: d.endpointId },
            'webhook delivery failed internally',
          ),
        )
        .finally(() => {
          this.inFlight.delete(k);
          this.sends.delete(p);
          this.wake();
        });
      this.sends.add(p);
    }
    await Promise.resolve();
    this.schedule();
  }

  private schedule(): void {
    if (!this.running) return;
    const next = this.options.outbox.nextDueAtMs();
    if (next === undefined || next === Number.POSITIVE_INFINITY) return;
    if (this.timer !== undefined && this.timerAt <= next) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.wake();
      },
      Math.max(0, Math.min(next - this.now(), 2_147_000_000)),
    );
    this.timer.unref();
  }

  private async deliver(delivery: Delivery): Promise<void> {
    const { outbox, logger } = this.options;
    const event = outbox.event(delivery.eventId);
    if (event === undefined) return;
    const endpoint = this.options.endpoints().get(delivery.endpointId);
    const log = { eventId: event.id, type: event.type, budgetId: event.budgetId, endpoint: delivery.endpointId };
    if (endpoint === undefined) {
      await outbox.markDead(event.id, delivery.endpointId, 'endpoint_unknown');
      logger.warn(log, 'webhook endpoint no longer exists: delivery dead-lettered');
      return;
    }
    if (outbox.endpointState(endpoint.id).disabled) {
      await outbox.markDead(event.id, endpoint.id, 'endpoint_disabled');
      return;
    }
    if (endpoint.events.length > 0 && !endpoint.events.includes(event.type)) {
      await outbox.markDead(event.id, endpoint.id, 'event_type_not_subscribed');
      return;
    }
    const attempt = delivery.attempts + 1;
    const at = this.now();
    const timestamp = Math.floor(at / 1000);
    const headers = {
      'webhook-id': event.id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signatureHeader(event.id, timestamp, event.body, endpoint.secrets),
    };
    const result = await this.options.sender.send(endpoint.url, headers, event.body, endpoint.timeoutMs);
    const ok = result.status !== null && result.status >= 200 && result.status < 300;
    const first = delivery.firstAttemptAtMs ?? at;
    let outcome: 'delivered' | 'retry' | 'dead' = 'delivered';
    let next: number | null = null;
    let error = result.error ?? (ok ? null : `HTTP ${result.status}`);
    if (!ok) {
      if (result.status === 410) {
        outcome = 'dead';
        error = 'HTTP 410 Gone: endpoint disabled';
      } else {
        next = nextAttemptAt(this.retry, attempt, first, this.now(), result.retryAfterMs);
        outcome = next === null ? 'dead' : 'retry';
      }
    }
    await outbox.recordAttempt({
      eventId: event.id,
      endpointId: endpoint.id,
      eventType: event.type,
      budgetId: event.budgetId,
      attempt,
      atMs: at,
      httpStatus: result.status,
      error,
      durationMs: result.durationMs,
      outcome,
      nextAttemptAtMs: next,
    });
    if (ok) {
      this.delivered++;
      logger.debug({ ...log, attempt, status: result.status, ms: result.durationMs }, 'webhook delivered');
      return;
    }
    this.failedAttempts++;
    if (outcome === 'retry') {
      logger.warn(
        { ...log, attempt, status: result.status, error, nextAttemptAt: new Date(next!).toISOString() },
        'webhook attempt failed; will retry',
      );
      return;
    }
    this.deadLettered++;
    const reason = result.status === 410 ? 'gone (410)' : 'retries exhausted';
    await outbox.setEndpointDisabled(endpoint.id, true, reason);
    for (const other of outbox.deliveriesByStatus('pending', Number.MAX_SAFE_INTEGER)) {
      if (other.endpointId === endpoint.id) await outbox.markDead(other.eventId, endpoint.id, 'endpoint_disabled');
    }
    logger.error(
      { ...log, attempt, status: result.status, error, reason },
      'webhook dead-lettered and endpoint disabled',
    );
  }
}
