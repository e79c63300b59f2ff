import { createHash } from 'node:crypto';
import type { PreflightRecord } from '@costtrace/client';

export const WEBHOOK_EVENT_TYPES = [
  'budget.threshold_crossed',
  'budget.forecast_exceeded',
  'throttle.engaged',
  'throttle.released',
  'cost.anomaly',
  'reconcile.drift',
  'reconcile.drift_resolved',
  'preflight.decided',
  'preflight.approved',
  'preflight.rejected',
  'preflight.reservation_settled',
  'preflight.reservation_expired',
  'preflight.reservation_released',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Version of the payload schema below; bumped on any incompatible change. */
export const WEBHOOK_SCHEMA_VERSION = '1';

export interface WebhookBudgetRef {
  readonly id: string;
  readonly name: string;
  readonly window: string;
  readonly time_zone: string | null;
  readonly action: 'alert' | 'reject' | 'degrade';
}

export interface WebhookThrottleState {
  readonly state: 'engaged' | 'released' | 'none';
  readonly action: 'reject' | 'degrade' | null;
  readonly breach: number;
  readonly since: string | null;
  readonly expected_until: string | null;
  readonly release_reason: string | null;
}

export interface WebhookForecast {
  readonly projected_usd: string;
  readonly burn_rate_usd_per_hour: string;
  readonly exhaustion_at: string | null;
}

/** `data` of budget.* and throttle.* events. */
export interface BudgetEventData {
  readonly budget: WebhookBudgetRef;
  readonly scope: {
    readonly key: string;
    readonly selector: Record<string, string>;
    readonly dimensions: Record<string, string>;
  };
  readonly window: { readonly start: string; readonly end: string };
  readonly spend_usd: string;
  readonly limit_usd: string;
  readonly percent: number;
  readonly threshold_percent: number | null;
  readonly forecast: WebhookForecast | null;
  readonly throttle: WebhookThrottleState;
}

/** `data` of cost.anomaly events. */
export interface AnomalyEventData {
  readonly kind: 'spend_rate' | 'commit_shift';
  readonly scope: {
    readonly key: string;
    readonly service: string;
    readonly route: string;
    readonly commit: string | null;
  };
  readonly observed_usd: string;
  readonly baseline_usd: string;
  readonly threshold_usd: string | null;
  readonly previous_commit: string | null;
  readonly statistic: number;
  readonly window: { readonly start: string; readonly end: string };
}

/** `data` of reconcile.drift and reconcile.drift_resolved events. */
export interface DriftEventData {
  readonly rule: {
    readonly id: string;
    readonly measure: string;
    readonly above_percent: string;
    readonly window: string;
  };
  readonly provider: string;
  readonly currency: string;
  readonly window: { readonly start: string; readonly end: string };
  readonly billed_cost: string;
  /** The rule's measure (a drift category, or the whole drift), exact decimal. */
  readonly measured: string;
  /** |measured| ÷ billed cost × 100. */
  readonly percent: string;
  readonly drift: string;
  readonly categories: {
    readonly untraced: string;
    readonly cache_or_tier: string;
    readonly unpriced: string;
    readonly rate: string;
    readonly timing: string;
    readonly unexplained: string;
  };
}

/** `data` of preflight.* events: the preflight as it stands after the event. */
export interface PreflightEventData {
  readonly preflight: PreflightRecord;
}

/** The signed JSON body of every webhook (Standard Webhooks shape: type, timestamp, data). */
export interface WebhookPayload {
  readonly schema_version: string;
  /** Same as the `webhook-id` header; stable across retries and replays. */
  readonly id: string;
  readonly type: WebhookEventType;
  /** When the event occurred (ISO 8601, UTC). */
  readonly timestamp: string;
  readonly data: BudgetEventData | AnomalyEventData | DriftEventData | PreflightEventData;
}

/** An event ready to deliver: its id, type and the exact body bytes that get signed. */
export interface WebhookEvent {
  readonly id: string;
  readonly type: WebhookEventType;
  readonly occurredAtMs: number;
  /** Budget id, or "" for anomalies; for logs and filters. */
  readonly budgetId: string;
  readonly scopeKey: string;
  readonly body: string;
}

/**
 * A deterministic event id: the same breach, threshold or anomaly always gets the same id, so a
 * replay after a crash re-creates an event the outbox already holds instead of a second one.
 */
export function eventId(parts: readonly (string | number)[]): string {
  return `evt_${createHash('sha256').update(parts.join('\u0000')).digest('base64url').slice(0, 26)}`;
}

export function buildEvent(payload: WebhookPayload, budgetId: string, scopeKey: string): WebhookEvent {
  return {
    id: payload.id,
    type: payload.type,
    occurredAtMs: Date.parse(payload.timestamp),
    budgetId,
    scopeKey,
    body: JSON.stringify(payload),
  };
}
