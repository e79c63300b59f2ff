/**
 * One active throttle as served by `GET /v1/throttles` and the SSE stream, and as the SDK guard
 * reads it. `selector` says which requests it applies to: the budget's scope patterns with the
 * per-key dimensions filled in with this key's exact values (same pattern syntax as budgets:
 * exact, "prefix*", "*").
 */
export interface ActiveThrottle {
  readonly scope_key: string;
  readonly budget_id: string;
  readonly budget_name: string;
  readonly selector: Readonly<Record<string, string>>;
  readonly action: 'reject' | 'degrade';
  readonly spend_usd: string;
  readonly limit_usd: string;
  readonly percent: number;
  /** When the throttle engaged (ISO 8601). */
  readonly since: string;
  /** When it is expected to release if nothing more is spent (ISO 8601); null if unknown. */
  readonly expected_until: string | null;
  readonly breach: number;
  /** Id of the throttle.engaged event. */
  readonly event_id: string;
}
