import { formatDuration, formatScaled, MONEY_SCALE, percentOfLimit } from '@costtrace/core';
import type {
  Budget,
  CommitShiftFinding,
  Forecast,
  SpendRateFinding,
  ThresholdEvent,
  ThresholdState,
} from '@costtrace/core';
import { buildEvent, eventId, WEBHOOK_SCHEMA_VERSION } from '../webhooks/webhook-event.js';
import type { WebhookEvent, WebhookPayload } from '../webhooks/webhook-event.js';
import type { ActiveThrottle } from './throttle.js';

const usd = (subunits: bigint): string => formatScaled(subunits, MONEY_SCALE);
const iso = (ms: number): string => new Date(ms).toISOString();

export interface KeyView {
  readonly budget: Budget;
  readonly scopeKey: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly spend: bigint;
  readonly windowStartMs: number;
  readonly windowEndMs: number;
  /** "rolling@<epoch>" (see KeyState.epochMs) or the calendar period start. */
  readonly windowId: string;
  readonly forecast: Forecast | null;
  readonly thresholds: ThresholdState;
  readonly expectedUntilMs: number | null;
}

/** The throttle selector of a key: budget patterns, per-key dimensions pinned to their values. */
export function throttleSelector(budget: Budget, dimensions: Readonly<Record<string, string>>): Record<string, string> {
  const selector: Record<string, string> = {};
  for (const [dim, pattern] of Object.entries(budget.scope)) if (pattern !== undefined) selector[dim] = pattern;
  for (const [dim, value] of Object.entries(dimensions)) selector[dim] = value.replaceAll('*', '\\*');
  return selector;
}

export function activeThrottle(view: KeyView, engagedEventId: string): ActiveThrottle | null {
  const t = view.thresholds.throttle;
  if (!t.engaged || view.budget.action === 'alert') return null;
  const selector = throttleSelector(view.budget, view.dimensions);
  const scope: Record<string, string> = {};
  for (const [dim, pattern] of Object.entries(view.budget.scope)) {
    if (pattern !== undefined && !pattern.includes('*')) scope[dim] = pattern;
  }
  for (const [dim, value] of Object.entries(view.dimensions)) scope[dim] = value;
  const spend = usd(view.spend);
  const limit = view.budget.limit.toDecimalString();
  return {
    id: engagedEventId,
    budgetId: view.budget.id,
    scope,
    action: view.budget.action,
    spend: { amount: spend, currency: 'USD' },
    limit: { amount: limit, currency: 'USD' },
    until: view.budget.window.kind === 'calendar' ? iso(view.windowEndMs) : null,
    scope_key: view.scopeKey,
    budget_id: view.budget.id,
    budget_name: view.budget.name,
    selector,
    spend_usd: spend,
    limit_usd: limit,
    percent: percentOfLimit(view.spend, view.budget.limit.subunits),
    since: iso(t.sinceMs ?? view.windowEndMs),
    expected_until: view.expectedUntilMs === null ? null : iso(view.expectedUntilMs),
    breach: t.breach,
    event_id: engagedEventId,
  };
}

/** Deterministic id of an engine event: same breach/threshold/window → same id. */
export function budgetEventId(view: Pick<KeyView, 'budget' | 'scopeKey' | 'windowId'>, event: ThresholdEvent): string {
  const b = view.budget;
  const windowKey =
    b.window.kind === 'rolling'
      ? `rolling:${b.window.durationMs}:${view.windowId}`
      : `${b.window.period}:${b.window.timeZone}:${view.windowId}`;
  switch (event.type) {
    case 'budget.threshold_crossed':
      return eventId([event.type, view.scopeKey, windowKey, event.threshold, event.episode]);
    case 'budget.forecast_exceeded':
      return eventId([event.type, view.scopeKey, windowKey, event.episode]);
    case 'throttle.engaged':
    case 'throttle.released':
      return eventId([event.type, view.scopeKey, windowKey, event.breach]);
  }
}

/** The versioned webhook payload of a budget or throttle event. */
export function budgetEventPayload(view: KeyView, event: ThresholdEvent, occurredAtMs: number): WebhookEvent {
  const b = view.budget;
  const t = view.thresholds.throttle;
  const released = event.type === 'throttle.released';
  const payload: WebhookPayload = {
    schema_version: WEBHOOK_SCHEMA_VERSION,
    id: budgetEventId(view, event),
    type: event.type,
    timestamp: iso(occurredAtMs),
    data: {
      budget: {
        id: b.id,
        name: b.name,
        window: b.window.kind === 'rolling' ? formatDuration(b.window.durationMs) : b.window.period,
        time_zone: b.window.kind === 'calendar' ? b.window.timeZone : null,
        action: b.action,
      },
      scope: { key: view.scopeKey, selector: throttleSelector(b, view.dimensions), dimensions: { ...view.dimensions } },
      window: { start: iso(view.windowStartMs), end: iso(view.windowEndMs) },
      spend_usd: usd(view.spend),
      limit_usd: b.limit.toDecimalString(),
      percent: percentOfLimit(view.spend, b.limit.subunits),
      threshold_percent:
        event.type === 'budget.threshold_crossed'
          ? event.threshold
          : event.type === 'throttle.engaged'
            ? b.throttleAtPercent
            : null,
      forecast:
        view.forecast === null
          ? null
          : {
              projected_usd: usd(view.forecast.projected),
              burn_rate_usd_per_hour: usd(view.forecast.burnRatePerHour),
              exhaustion_at: view.forecast.exhaustionAtMs === null ? null : iso(view.forecast.exhaustionAtMs),
            },
      throttle: {
        state: b.action === 'alert' ? 'none' : released ? 'released' : t.engaged ? 'engaged' : 'released',
        action: b.action === 'alert' ? null : b.action,
        breach: 'breach' in event ? event.breach : t.breach,
        since: t.sinceMs === null ? null : iso(t.sinceMs),
        expected_until: !released && t.engaged && view.expectedUntilMs !== null ? iso(view.expectedUntilMs) : null,
        release_reason: event.type === 'throttle.released' ? event.reason : null,
      },
    },
  };
  return buildEvent(payload, b.id, view.scopeKey);
}

export function anomalyEventPayload(
  finding: SpendRateFinding | CommitShiftFinding,
  scope: { key: string; service: string; route: string },
  occurredAtMs: number,
  minuteMs = 60_000,
): WebhookEvent {
  const id =
    finding.kind === 'spend_rate'
      ? eventId(['cost.anomaly', 'spend_rate', scope.key, finding.minuteStartMs])
      : eventId(['cost.anomaly', 'commit_shift', scope.key, finding.commit]);
  const payload: WebhookPayload = {
    schema_version: WEBHOOK_SCHEMA_VERSION,
    id,
    type: 'cost.anomaly',
    timestamp: iso(occurredAtMs),
    data: {
      kind: finding.kind,
      scope: {
        key: scope.key,
        service: scope.service,
        route: scope.route,
        commit: finding.kind === 'commit_shift' ? finding.commit : null,
      },
      observed_usd: usd(finding.observed),
      baseline_usd: usd(finding.baseline),
      threshold_usd: finding.kind === 'spend_rate' ? usd(finding.threshold) : null,
      previous_commit: finding.kind === 'commit_shift' ? finding.previousCommit : null,
      statistic: finding.kind === 'spend_rate' ? finding.zScore : finding.tStatistic,
      window:
        finding.kind === 'spend_rate'
          ? { start: iso(finding.minuteStartMs), end: iso(finding.minuteStartMs + minuteMs) }
          : { start: iso(occurredAtMs), end: iso(occurredAtMs) },
    },
  };
  return buildEvent(payload, '', scope.key);
}
