import { ApiError } from './api-error.js';

/**
 * One active throttle, as `GET /v1/throttles` returns it (see docs/sdk.md, "Throttle API"):
 * the fields a guard needs. `scope` is a selector: a request falls in it when every dimension
 * listed has that value ({} matches every request).
 */
export interface Throttle {
  /** Stable id of this engagement; `released` events name it. */
  readonly id: string;
  readonly budgetId: string;
  /** Dimension → value, e.g. { tenant: "acme" } or { route: "/v1/chat", model: "gpt-4o" }. */
  readonly scope: Readonly<Record<string, string>>;
  /** What the budget owner asks for; a guard's degrade hook sees it. Default "reject". */
  readonly action: 'reject' | 'degrade';
  /** Exact decimal strings and currency, as the aggregator computed them. */
  readonly spend: { readonly amount: string; readonly currency: string };
  readonly limit: { readonly amount: string; readonly currency: string };
  /** Epoch ms when the throttle lifts at the latest (end of the budget window); undefined: until released. */
  readonly until: number | undefined;
}

/** The document `GET /v1/throttles` answers and the SSE `snapshot` event carries. */
export interface ThrottleDocument {
  readonly version?: number;
  readonly throttles: readonly Throttle[];
}

function fail(path: string, problem: string): ApiError {
  return new ApiError('INVALID_RESPONSE', `throttle API document: ${path} ${problem}`);
}

function money(value: unknown, path: string): { amount: string; currency: string } {
  if (typeof value !== 'object' || value === null) throw fail(path, 'must be {"amount": "…", "currency": "USD"}');
  const { amount, currency } = value as Record<string, unknown>;
  if (typeof amount !== 'string' || !/^-?\d+(\.\d+)?$/.test(amount))
    throw fail(`${path}.amount`, 'must be a decimal string');
  if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) throw fail(`${path}.currency`, 'must be ISO 4217');
  return { amount, currency };
}

/** Validates one throttle object from the API. Throws ApiError INVALID_RESPONSE naming the field. */
export function parseThrottle(value: unknown, path = 'throttle'): Throttle {
  if (typeof value !== 'object' || value === null) throw fail(path, 'must be an object');
  const t = value as Record<string, unknown>;
  if (typeof t.id !== 'string' || t.id === '') throw fail(`${path}.id`, 'must be a non-empty string');
  if (typeof t.budgetId !== 'string' || t.budgetId === '') throw fail(`${path}.budgetId`, 'must be a non-empty string');
  if (typeof t.scope !== 'object' || t.scope === null || Array.isArray(t.scope)) {
    throw fail(`${path}.scope`, 'must be an object of dimension → value');
  }
  const scope: Record<string, string> = {};
  for (const [key, v] of Object.entries(t.scope)) {
    if (typeof v !== 'string') throw fail(`${path}.scope.${key}`, 'must be a string');
    scope[key] = v;
  }
  const action = t.action ?? 'reject';
  if (action !== 'reject' && action !== 'degrade') throw fail(`${path}.action`, 'must be "reject" or "degrade"');
  let until: number | undefined;
  if (t.until !== undefined && t.until !== null) {
    until = typeof t.until === 'string' ? Date.parse(t.until) : Number.NaN;
    if (!Number.isFinite(until)) throw fail(`${path}.until`, 'must be an ISO 8601 time or null');
  }
  return {
    id: t.id,
    budgetId: t.budgetId,
    scope,
    action,
    spend: money(t.spend, `${path}.spend`),
    limit: money(t.limit, `${path}.limit`),
    until,
  };
}

/** Validates a throttle document. Throws ApiError INVALID_RESPONSE naming the field. */
export function parseThrottleDocument(value: unknown): ThrottleDocument {
  if (typeof value !== 'object' || value === null) throw fail('', 'must be a JSON object');
  const doc = value as Record<string, unknown>;
  if (!Array.isArray(doc.throttles)) throw fail('throttles', 'must be an array');
  return {
    ...(typeof doc.version === 'number' ? { version: doc.version } : {}),
    throttles: doc.throttles.map((t, i) => parseThrottle(t, `throttles[${i}]`)),
  };
}
