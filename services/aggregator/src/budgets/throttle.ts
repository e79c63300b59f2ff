/**
 * One active throttle as served by `GET /v1/throttles`, the SSE stream and the SDK guard
 * (packages/otel ThrottleSet reads `id`, `budgetId`, `scope`, `action`, `spend`, `limit`, `until`;
 * the snake_case fields add the why and the when for gateways and people).
 */
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
