import { evaluateDrift, formatScaled, utcDay } from '@costtrace/core';
import type { DriftFinding, DriftRule, PriceSnapshot } from '@costtrace/core';
import { reconcileStored } from '@costtrace/store';
import type { BillStore } from '@costtrace/store';
import type { Logger } from 'pino';
import { buildEvent, eventId, WEBHOOK_SCHEMA_VERSION } from '../webhooks/webhook-event.js';
import type { DriftEventData, WebhookEvent, WebhookPayload } from '../webhooks/webhook-event.js';

export interface DriftMonitorOptions {
  readonly store: BillStore;
  /** The prices reconcile compares with (the snapshot the aggregator prices with). */
  readonly snapshot: () => PriceSnapshot;
  /** The drift rules in force (the budgets file's `drift:`). */
  readonly rules: () => readonly DriftRule[];
  /** Signs and delivers (the budgets' webhook dispatcher: outbox, retries, dead letters). */
  readonly publish: (event: WebhookEvent, endpoints: readonly string[]) => Promise<boolean>;
  readonly logger: Logger;
  /** How often the rules are measured; the first check runs at start. */
  readonly intervalMs: number;
  readonly now?: (() => number) | undefined;
}

const DAY = 86_400;

/**
 * Measures the drift rules on reconcile's figures every `intervalMs` and fires
 * `reconcile.drift` when a provider's measure crosses its threshold upward, and
 * `reconcile.drift_resolved` when it falls back below, as budgets fire their thresholds. Bills
 * arrive a day or more late, so an hourly check is plenty.
 *
 * Which rule and provider are above is kept in memory: after a restart an ongoing drift is
 * reported again, at most once per UTC day (event ids are (rule, provider, day, kind), so the
 * outbox drops a repeat of the same day).
 */
export class DriftMonitor {
  private readonly above = new Map<string, boolean>();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private stopped = false;
  checks = 0;
  failures = 0;

  constructor(private readonly options: DriftMonitorOptions) {
    this.now = options.now ?? Date.now;
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.checking;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.checking = this.check()
        .then(() => undefined)
        .catch((err: unknown) => {
          this.failures++;
          this.options.logger.warn({ err }, 'drift check failed; trying again at the next interval');
        })
        .finally(() => {
          this.checking = undefined;
          this.schedule(this.options.intervalMs);
        });
    }, delayMs);
    this.timer.unref();
  }

  /** Measures every rule now and publishes the crossings; returns the findings. */
  async check(): Promise<DriftFinding[]> {
    const nowMs = this.now();
    const nowSeconds = Math.floor(nowMs / 1000);
    const findings: DriftFinding[] = [];
    for (const rule of this.options.rules()) {
      const since = utcDay(nowSeconds) - (rule.windowDays - 1) * DAY;
      const report = await reconcileStored(
        this.options.store,
        { since, until: nowSeconds, groupBy: ['provider'], providers: rule.provider === '' ? [] : [rule.provider] },
        this.options.snapshot(),
      );
      // The figures the rule saw, kept (reconcile_results) so drift can be followed over time.
      await this.options.store
        .saveReconcileRun(
          {
            runId: `drift:${rule.id}:${nowMs}:${this.checks}`,
            runAt: nowSeconds,
            since,
            until: nowSeconds,
            groupBy: ['provider'],
          },
          report.rows,
        )
        .catch((err: unknown) => this.options.logger.warn({ err, rule: rule.id }, 'saving the drift check failed'));
      for (const finding of evaluateDrift(rule, report.rows)) {
        findings.push(finding);
        const key = `${rule.id}\u0000${finding.provider}\u0000${finding.currency}`;
        const was = this.above.get(key) ?? false;
        this.above.set(key, finding.above);
        if (finding.above === was) continue;
        const type = finding.above ? 'reconcile.drift' : 'reconcile.drift_resolved';
        const payload = driftPayload(type, finding, since, nowSeconds, nowMs);
        const published = await this.options.publish(
          buildEvent(payload, '', `${rule.id}|${finding.provider}`),
          rule.webhooks,
        );
        this.options.logger.info(
          { rule: rule.id, provider: finding.provider, percent: finding.percent, type, eventId: payload.id, published },
          finding.above ? 'reconcile drift above its threshold' : 'reconcile drift back below its threshold',
        );
      }
    }
    this.checks++;
    return findings;
  }
}

function driftPayload(
  type: 'reconcile.drift' | 'reconcile.drift_resolved',
  finding: DriftFinding,
  since: number,
  until: number,
  nowMs: number,
): WebhookPayload {
  const { rule } = finding;
  const c = finding.categories;
  const data: DriftEventData = {
    rule: {
      id: rule.id,
      measure: rule.measure,
      above_percent: formatScaled(rule.abovePercent, 4),
      window: `${rule.windowDays}d`,
    },
    provider: finding.provider,
    currency: finding.currency,
    window: { start: new Date(since * 1000).toISOString(), end: new Date(until * 1000).toISOString() },
    billed_cost: finding.billedCost,
    measured: finding.measured,
    percent: finding.percent,
    drift: finding.drift,
    categories: {
      untraced: c.untraced,
      cache_or_tier: c.cacheOrTier,
      unpriced: c.unpriced,
      rate: c.rate,
      timing: c.timing,
      unexplained: c.unexplained,
    },
  };
  return {
    schema_version: WEBHOOK_SCHEMA_VERSION,
    id: eventId([type, rule.id, finding.provider, finding.currency, utcDay(Math.floor(nowMs / 1000))]),
    type,
    timestamp: new Date(nowMs).toISOString(),
    data,
  };
}
