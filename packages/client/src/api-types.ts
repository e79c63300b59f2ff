import type { BudgetDocument } from '@costtrace/core';

/*
 * The aggregator API's documents, as they travel (docs/api.md). The aggregator checks at
 * compile time that what it sends satisfies these types; the client, the CLI, the SDK's
 * throttle feed and the dashboard read them.
 */

// ---- budgets (/v1/budgets, /v1/events) ----

export interface BudgetResponse {
  readonly budget: BudgetDocument;
}

export interface BudgetList {
  readonly budgets: readonly BudgetDocument[];
}

/** One key of a budget (`per` dimensions) with its rolling spend. Money is exact decimal USD. */
export interface BudgetKeyStatus {
  readonly scope_key: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly spend_usd: string;
  readonly limit_usd: string;
  readonly percent: number;
  /** ISO 8601. */
  readonly window: { readonly start: string | null; readonly end: string | null };
  readonly thresholds_crossed: readonly number[];
  readonly throttle: {
    readonly engaged: boolean;
    readonly breach: number;
    readonly since: string | null;
    readonly expected_until: string | null;
  };
  readonly forecast: {
    readonly projected_usd: string;
    readonly burn_rate_usd_per_hour: string;
    readonly exhaustion_at: string | null;
  } | null;
  readonly last_seen: string | null;
  /** True when the answering instance evaluates the key; false: last persisted state of another's. */
  readonly evaluated_here: boolean;
}

export interface BudgetStatus {
  readonly budget: BudgetDocument;
  readonly keys: readonly BudgetKeyStatus[];
  readonly key_count: number;
  readonly keys_over_cap: number;
}

/** A budget, throttle or anomaly event: the webhook payload (Standard Webhooks body). */
export interface BudgetEvent {
  readonly id: string;
  readonly type: string;
  /** ISO 8601. */
  readonly timestamp: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export interface EventList {
  readonly events: readonly BudgetEvent[];
}

export interface EventsRequest {
  readonly budget?: string | undefined;
  readonly type?: string | undefined;
  readonly limit?: number | undefined;
}

// ---- throttles (/v1/throttles) ----

/** An active throttle with everything the aggregator knows of it (a superset of `Throttle`). */
export interface ActiveThrottle {
  /** Id of this engagement (the throttle.engaged event id); `released` SSE events name it. */
  readonly id: string;
  readonly budgetId: string;
  /**
   * Exact dimension → value a request must have for the throttle to apply: the budget's exact
   * selector values plus this key's per-key values. Pattern dimensions ("/v1/*") are left out
   * here (they are in `selector`), so an exact-match guard errs on the side of throttling.
   */
  readonly scope: Readonly<Record<string, string>>;
  readonly action: 'reject' | 'degrade';
  readonly spend: { readonly amount: string; readonly currency: 'USD' };
  readonly limit: { readonly amount: string; readonly currency: 'USD' };
  /** Latest time it can hold (ISO 8601): the calendar period end; null for rolling windows (until released). */
  readonly until: string | null;
  readonly scope_key: string;
  readonly budget_id: string;
  readonly budget_name: string;
  /** The budget's selector patterns with per-key dimensions pinned (exact, "prefix*", "*"). */
  readonly selector: Readonly<Record<string, string>>;
  readonly spend_usd: string;
  readonly limit_usd: string;
  readonly percent: number;
  /** When the throttle engaged (ISO 8601). */
  readonly since: string;
  /** When it is expected to release if nothing more is spent (ISO 8601); null if unknown. */
  readonly expected_until: string | null;
  readonly breach: number;
  /** Same as `id`. */
  readonly event_id: string;
}

export interface ThrottleList {
  readonly version: number;
  readonly throttles: readonly ActiveThrottle[];
  /** ISO 8601. */
  readonly generated_at: string;
}

// ---- cost queries (/api/v1/…) ----

/** `where` filters: a row matches when its dimension has one of the values. */
export interface DimensionFilterParam {
  readonly dimension: string;
  readonly values: readonly string[];
}

interface RangeParams {
  /** Unix seconds, or a relative span the API accepts ("24h", "7d"). */
  readonly since: number | string;
  readonly until?: number | string | undefined;
  readonly limit?: number | undefined;
  readonly where?: readonly DimensionFilterParam[] | undefined;
}

export interface CostsRequest extends RangeParams {
  readonly groupBy: readonly string[];
  /** Time-bucketed series: "1m", "5m", "1h", "1d". */
  readonly bucket?: string | undefined;
  readonly orderBy?: string | undefined;
  /** "auto", "rollup" or "spans". */
  readonly source?: string | undefined;
  /** Add the deltas of applied re-pricing corrections. */
  readonly corrections?: boolean | undefined;
}

export type TopSpansRequest = RangeParams;

export interface CoverageRequest extends RangeParams {
  readonly groupBy: readonly string[];
}

/** One group of `GET /api/v1/costs`. Money is an exact decimal string. */
export interface CostRow {
  readonly dimensions: Readonly<Record<string, string | undefined>>;
  /** Bucket start, unix seconds (series queries only). */
  readonly bucket?: number;
  readonly cost: string;
  readonly spans: number;
  readonly requests: number;
  /** Input plus output tokens as reported by the spans. */
  readonly tokens: number;
  /** Exact, rounded once half to even at 12 places; null when the denominator is zero. */
  readonly costPerRequest: string | null;
  readonly costPer1kRequests: string | null;
  readonly costPer1MTokens: string | null;
}

/** One span of `GET /api/v1/top/spans`. */
export interface TopSpanRow {
  readonly trace_id: string;
  readonly span_id: string;
  readonly span_name: string;
  readonly service: string;
  readonly route: string;
  readonly commit: string;
  readonly model: string;
  readonly provider: string;
  readonly tenant: string;
  /** Unix seconds. */
  readonly startTime: number;
  /** Exact decimal. */
  readonly cost: string;
  readonly currency: string;
  readonly tokens: number;
}

/** One group of `GET /api/v1/coverage`: how much of its usage was priced exactly. */
export interface CoverageRow {
  /** The group's values, one per `group_by` dimension (as stored; '' when unset). */
  readonly group: Readonly<Record<string, string>>;
  /** Spans whose usage is their own call's. */
  readonly usageSpans: number;
  readonly exact: number;
  /** Priced as an upper bound (the emitter reports no cached tokens). */
  readonly upperBound: number;
  /** Not priced, in full or in part. */
  readonly unpriced: number;
  readonly duplicates: number;
  readonly rollups: number;
  /** exact ÷ usageSpans, rounded down to 4 decimals; null without usage spans. */
  readonly coverage: number | null;
}

/** What every `/api/v1` query answers: the normalised query and the rows. */
export interface QueryResponse<Row> {
  readonly query: unknown;
  readonly rows: readonly Row[];
}

// ---- preflight (/v1/preflight) ----

/** What a planned job or batch will use; priced by the aggregator with the live price snapshot. */
export interface PreflightPlan {
  /** GPU time: `count` GPUs of `type` for `hours` (exact decimal text). */
  readonly gpus?: readonly {
    readonly type: string;
    readonly count: number;
    readonly hours: string;
    /** Who bills the GPUs (`aws`, `internal`…); default: the reference rates. */
    readonly provider?: string;
    /** `on_demand` (default), `spot`, `reserved`, `committed`, `internal`. */
    readonly pricing_model?: string;
  }[];
  /** Model calls: tokens in all, and the number of requests they are spread over. */
  readonly models?: readonly {
    readonly provider: string;
    readonly model: string;
    readonly input_tokens: number;
    readonly output_tokens: number;
    /** Input tokens read from a prompt cache (part of input_tokens). */
    readonly cached_input_tokens?: number;
    /** Requests the tokens are spread over (the prompt-size tier is priced per request). */
    readonly requests?: number;
    /** `standard` (default), `batch`, `priority`, `flex`. */
    readonly service_tier?: string;
  }[];
  /** An amount priced elsewhere, exact decimal USD: used as stated, in place of gpus and models. */
  readonly amount_usd?: string;
}

export interface PreflightRequest {
  /** The job the spend will carry as `costtrace.job.id`: its spans settle the reservation. */
  readonly job_id?: string;
  readonly job_kind?: string;
  /** Budget dimensions of the work (team, tenant, service, model…), as its spans will carry them. */
  readonly dimensions?: Readonly<Record<string, string>>;
  readonly plan: PreflightPlan;
  /** Who asks (a person or a pipeline); recorded. */
  readonly requested_by: string;
  readonly description?: string;
  /** How long an approved reservation holds, in hours; default and maximum from the policy. */
  readonly reservation_hours?: number;
}

export type PreflightDecision = 'allow' | 'needs_approval' | 'deny';

/**
 * Where a preflight stands: `pending` (needs approval), `reserved` (allowed or approved, the
 * amount held against the budgets), `settled` (the job's spans reached the amount), `expired`
 * (held past its time), `released` (freed by hand), `denied`, `rejected` (approval refused).
 */
export const PREFLIGHT_STATUSES = [
  'pending',
  'reserved',
  'settled',
  'expired',
  'released',
  'denied',
  'rejected',
] as const;
export type PreflightStatus = (typeof PREFLIGHT_STATUSES)[number];

/** A preflight id: `pf_` and 26 of [0-9a-z]. */
export const PREFLIGHT_ID_PATTERN = /^pf_[0-9a-z]{26}$/;

export interface PreflightReason {
  /** `above_approval_threshold`, `above_deny_threshold`, `over_budget`, `no_price`. */
  readonly code: string;
  readonly rule?: string;
  readonly budget_id?: string;
  readonly scope_key?: string;
  readonly detail: string;
}

/** A budget the work lands in, as it stood when decided. Money is exact decimal USD. */
export interface PreflightBudget {
  readonly budget_id: string;
  readonly scope_key: string;
  readonly limit_usd: string;
  readonly spend_usd: string;
  /** Outstanding reservations of other preflights on this key. */
  readonly reserved_usd: string;
  /** limit − spend − reserved (may be negative). */
  readonly remaining_usd: string;
  /** remaining − this amount. */
  readonly remaining_after_usd: string;
}

export interface PreflightRecord {
  readonly id: string;
  readonly decision: PreflightDecision;
  readonly status: PreflightStatus;
  readonly job_id: string | null;
  readonly job_kind: string | null;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly amount_usd: string;
  readonly currency: string;
  /** What was priced: one line per GPU group and model, with its amount and price ids. */
  readonly lines: readonly {
    readonly what: string;
    readonly amount_usd: string;
    readonly price_ids: readonly string[];
  }[];
  readonly pricing_version: string;
  readonly reasons: readonly PreflightReason[];
  /** Policy rules that matched. */
  readonly rules: readonly string[];
  readonly budgets: readonly PreflightBudget[];
  readonly requested_by: string;
  readonly description: string;
  /** ISO 8601. */
  readonly created_at: string;
  readonly decided_by: string | null;
  readonly decided_at: string | null;
  readonly note: string | null;
  /** Held against the budgets while status is `reserved`. */
  readonly reservation: {
    readonly amount_usd: string;
    /** Spend of the job's spans since the preflight (exact decimal USD). */
    readonly settled_usd: string;
    /** amount − settled, at least 0: what still counts against the budgets. */
    readonly outstanding_usd: string;
    readonly expires_at: string;
  } | null;
}

export interface PreflightList {
  readonly preflights: readonly PreflightRecord[];
}

/** Body of approve / reject / release. */
export interface PreflightAction {
  readonly by: string;
  readonly note?: string;
}
