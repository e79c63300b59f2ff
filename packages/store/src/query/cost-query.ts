/**
 * The cost query model shared by every store and front end (HTTP API, `costtrace report`): what
 * to group by, which filters, which time range and buckets. Parsing validates every user value
 * against an allow-list or a strict format and names the offending parameter, so store-specific
 * SQL builders only ever see checked values (and still quote every string they splice in).
 */

/** Dimensions a query may group or filter by: the allow-list. */
export const QUERY_DIMENSIONS = [
  'service',
  'environment',
  'route',
  'commit',
  'model',
  'provider',
  'team',
  'tenant',
  'feature',
  'span_name',
  'currency',
  'pricing_version',
  'trace_id',
  'gpu_type',
  'instance_type',
  'job_id',
  'job_kind',
] as const;
export type QueryDimension = (typeof QUERY_DIMENSIONS)[number];

/** Dimensions kept in correction rows (re-pricing deltas). */
export const CORRECTION_QUERY_DIMENSIONS: readonly QueryDimension[] = [
  'service',
  'environment',
  'route',
  'commit',
  'model',
  'provider',
  'team',
  'tenant',
  'currency',
];

/** Dimensions kept in the per-minute rollup. */
export const ROLLUP_QUERY_DIMENSIONS: readonly QueryDimension[] = [
  ...CORRECTION_QUERY_DIMENSIONS,
  'job_id',
  'job_kind',
];

export const QUERY_ORDERS = ['cost', 'spans', 'requests', 'tokens', 'time'] as const;
export type QueryOrder = (typeof QUERY_ORDERS)[number];

export const QUERY_SOURCES = ['auto', 'spans', 'rollup'] as const;
export type QuerySource = (typeof QUERY_SOURCES)[number];

export interface DimensionFilter {
  readonly dimension: QueryDimension;
  /** Matches any of these values (IN). */
  readonly values: readonly string[];
}

export interface CostQuery {
  readonly groupBy: readonly QueryDimension[];
  readonly filters: readonly DimensionFilter[];
  /** Inclusive start, unix seconds. */
  readonly since: number;
  /** Exclusive end, unix seconds. */
  readonly until: number;
  /** Time-bucketed series when set: bucket width in seconds. */
  readonly bucketSeconds: number | undefined;
  readonly limit: number;
  readonly orderBy: QueryOrder;
  /** `auto` reads the per-minute rollup when it can answer exactly, else span_costs. */
  readonly source: QuerySource;
  /** Add the deltas of applied re-pricing corrections. */
  readonly includeCorrections: boolean;
}

/** The N most expensive single spans. */
export interface TopSpansQuery {
  readonly filters: readonly DimensionFilter[];
  readonly since: number;
  readonly until: number;
  readonly limit: number;
}

export type QueryParseResult<T> =
  | { readonly ok: true; readonly query: T }
  | { readonly ok: false; readonly parameter: string; readonly message: string };

/** Raw parameters: from a URL query string or CLI flags; repeated keys give several values. */
export type QueryParams = ReadonlyMap<string, readonly string[]>;

export const MAX_QUERY_LIMIT = 10_000;
const MAX_FILTER_VALUES = 100;
const MAX_VALUE_LENGTH = 1024;
const MAX_RANGE_SECONDS = 400 * 86_400;
const DURATION = /^(\d{1,6})(s|m|h|d|w)$/;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
/** Bucket widths the query API accepts (`bucket=5m`), in seconds. */
export const QUERY_BUCKETS: Readonly<Record<string, number>> = {
  '1m': 60,
  '5m': 300,
  '15m': 900,
  '1h': 3600,
  '6h': 21_600,
  '1d': 86_400,
};

/** URLSearchParams (or any list of pairs) → QueryParams. */
export function queryParams(pairs: Iterable<readonly [string, string]>): QueryParams {
  const map = new Map<string, string[]>();
  for (const [key, value] of pairs) {
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  }
  return map;
}

class ParamError extends Error {
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(message);
  }
}

function single(params: QueryParams, name: string): string | undefined {
  const values = params.get(name);
  if (values === undefined || values.length === 0) return undefined;
  if (values.length > 1) throw new ParamError(name, `${name} may be given once`);
  return values[0];
}

function isDimension(value: string): value is QueryDimension {
  return (QUERY_DIMENSIONS as readonly string[]).includes(value);
}

/**
 * A time: a duration back from now (`30m`, `24h`, `7d`), an ISO 8601 instant, or unix seconds.
 * Relative times are aligned to the minute so that they can be answered from the rollup.
 */
export function parseTime(name: string, text: string, nowSeconds: number): number {
  const minute = Math.floor(nowSeconds / 60) * 60;
  const relative = DURATION.exec(text);
  if (relative) return minute - Number(relative[1]) * UNIT_SECONDS[relative[2]!]!;
  if (text === 'now') return minute;
  if (/^\d{9,11}$/.test(text)) return Number(text);
  if (/^\d{4}-\d{2}-\d{2}([T ][0-9:.]+)?(Z|[+-]\d{2}:?\d{2})?$/.test(text)) {
    const ms = Date.parse(/[T ]/.test(text) && !/(Z|[+-]\d{2}:?\d{2})$/.test(text) ? `${text}Z` : text);
    if (Number.isFinite(ms)) return Math.floor(ms / 1000);
  }
  throw new ParamError(
    name,
    `${name}=${JSON.stringify(text.slice(0, 64))} is not a time: use a duration back from now (30m, 24h, 7d), an ISO 8601 time or unix seconds`,
  );
}

function parseFilters(params: QueryParams, known: ReadonlySet<string>): DimensionFilter[] {
  const byDimension = new Map<QueryDimension, string[]>();
  const add = (parameter: string, dimension: string, value: string): void => {
    if (!isDimension(dimension)) {
      throw new ParamError(
        parameter,
        `cannot filter by ${JSON.stringify(dimension.slice(0, 64))}: use one of ${QUERY_DIMENSIONS.join(', ')}`,
      );
    }
    if (value.length > MAX_VALUE_LENGTH)
      throw new ParamError(parameter, `${dimension} value longer than ${MAX_VALUE_LENGTH} characters`);
    const list = byDimension.get(dimension) ?? [];
    if (list.length >= MAX_FILTER_VALUES)
      throw new ParamError(parameter, `more than ${MAX_FILTER_VALUES} values for ${dimension}`);
    list.push(value);
    byDimension.set(dimension, list);
  };
  for (const [key, values] of params) {
    if (key === 'where') {
      for (const clause of values) {
        const eq = clause.indexOf('=');
        if (eq <= 0)
          throw new ParamError('where', `where=${JSON.stringify(clause.slice(0, 64))} is not dimension=value`);
        add('where', clause.slice(0, eq), clause.slice(eq + 1));
      }
    } else if (!known.has(key)) {
      if (!isDimension(key)) {
        throw new ParamError(
          key,
          `unknown parameter ${JSON.stringify(key.slice(0, 64))}: filters are one of ${QUERY_DIMENSIONS.join(', ')}`,
        );
      }
      for (const value of values) add(key, key, value);
    }
  }
  return [...byDimension].map(([dimension, list]) => ({ dimension, values: list }));
}

function parseRange(params: QueryParams, nowSeconds: number): { since: number; until: number } {
  const sinceText = single(params, 'since') ?? '24h';
  const untilText = single(params, 'until');
  const since = parseTime('since', sinceText, nowSeconds);
  const until =
    untilText === undefined ? Math.floor(nowSeconds / 60) * 60 + 60 : parseTime('until', untilText, nowSeconds);
  if (until <= since) throw new ParamError('until', 'until must be after since');
  if (until - since > MAX_RANGE_SECONDS) throw new ParamError('since', 'time range longer than 400 days');
  return { since, until };
}

function parseLimit(params: QueryParams, fallback: number): number {
  const text = single(params, 'limit');
  if (text === undefined) return fallback;
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > MAX_QUERY_LIMIT) {
    throw new ParamError('limit', `limit must be an integer from 1 to ${MAX_QUERY_LIMIT}`);
  }
  return Number(text);
}

function oneOf<T extends string>(params: QueryParams, name: string, allowed: readonly T[], fallback: T): T {
  const text = single(params, name);
  if (text === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(text))
    throw new ParamError(name, `${name} must be one of ${allowed.join(', ')}`);
  return text as T;
}

const COST_PARAMS = new Set([
  'group_by',
  'by',
  'since',
  'until',
  'bucket',
  'limit',
  'order_by',
  'source',
  'corrections',
  'where',
]);

/**
 * Parses a cost query. `group_by` (alias `by`) lists dimensions, comma separated; any allow-listed
 * dimension used as a parameter name (or `where=dimension=value`) filters, repeated values OR'd.
 */
export function parseCostQuery(params: QueryParams, nowSeconds: number): QueryParseResult<CostQuery> {
  try {
    const groupText = [...(params.get('group_by') ?? []), ...(params.get('by') ?? [])].join(',');
    const groupBy: QueryDimension[] = [];
    for (const raw of groupText.split(',')) {
      const name = raw.trim();
      if (name === '') continue;
      if (!isDimension(name)) {
        throw new ParamError(
          'group_by',
          `cannot group by ${JSON.stringify(name.slice(0, 64))}: use one of ${QUERY_DIMENSIONS.join(', ')}`,
        );
      }
      if (!groupBy.includes(name)) groupBy.push(name);
    }
    const bucketText = single(params, 'bucket');
    let bucketSeconds: number | undefined;
    if (bucketText !== undefined) {
      bucketSeconds = QUERY_BUCKETS[bucketText];
      if (bucketSeconds === undefined)
        throw new ParamError('bucket', `bucket must be one of ${Object.keys(QUERY_BUCKETS).join(', ')}`);
    }
    const corrections = single(params, 'corrections');
    if (corrections !== undefined && corrections !== 'true' && corrections !== 'false') {
      throw new ParamError('corrections', 'corrections must be true or false');
    }
    const includeCorrections = corrections === 'true';
    if (includeCorrections) {
      const unsupported = groupBy.find((d) => !CORRECTION_QUERY_DIMENSIONS.includes(d) && d !== 'trace_id');
      if (unsupported) throw new ParamError('group_by', `corrections cannot be grouped by ${unsupported}`);
    }
    const filters = parseFilters(params, COST_PARAMS);
    if (includeCorrections) {
      const unsupported = filters.find(
        (f) => !CORRECTION_QUERY_DIMENSIONS.includes(f.dimension) && f.dimension !== 'trace_id',
      );
      if (unsupported)
        throw new ParamError(unsupported.dimension, `corrections cannot be filtered by ${unsupported.dimension}`);
    }
    const source = oneOf(params, 'source', QUERY_SOURCES, 'auto');
    const range = parseRange(params, nowSeconds);
    const query: CostQuery = {
      groupBy,
      filters,
      ...range,
      bucketSeconds,
      limit: parseLimit(params, 1000),
      orderBy: oneOf(params, 'order_by', QUERY_ORDERS, bucketSeconds === undefined ? 'cost' : 'time'),
      source,
      includeCorrections,
    };
    if (source === 'rollup' && !rollupCanAnswer(query)) {
      throw new ParamError(
        'source',
        'the rollup cannot answer this query exactly (dimension, bucket or range not on whole minutes)',
      );
    }
    return { ok: true, query };
  } catch (err) {
    if (err instanceof ParamError) return { ok: false, parameter: err.parameter, message: err.message };
    throw err;
  }
}

const TOP_SPANS_PARAMS = new Set(['since', 'until', 'limit', 'where']);

/** What pricing coverage can be grouped by: the span row's columns, allow-listed. */
export const COVERAGE_DIMENSIONS = ['service', 'model', 'provider', 'emitter'] as const;
export type CoverageDimension = (typeof COVERAGE_DIMENSIONS)[number];

/** Pricing coverage of usage-bearing spans in a time range, grouped (see PricingCoverageRow). */
export interface CoverageQuery {
  readonly groupBy: readonly CoverageDimension[];
  readonly filters: readonly DimensionFilter[];
  readonly since: number;
  readonly until: number;
  readonly limit: number;
}

const COVERAGE_PARAMS = new Set(['since', 'until', 'limit', 'where', 'group_by', 'by']);

/** `group_by=service,model,emitter&since=24h&service=chat-api` → a CoverageQuery (default: by service). */
export function parseCoverageQuery(params: QueryParams, nowSeconds: number): QueryParseResult<CoverageQuery> {
  try {
    const filters = parseFilters(params, COVERAGE_PARAMS);
    const groupBy: CoverageDimension[] = [];
    for (const text of [...(params.get('group_by') ?? []), ...(params.get('by') ?? [])]) {
      for (const name of text.split(',')) {
        const dimension = name.trim();
        if (dimension === '') continue;
        if (!(COVERAGE_DIMENSIONS as readonly string[]).includes(dimension)) {
          throw new ParamError(
            'group_by',
            `cannot group coverage by ${JSON.stringify(dimension.slice(0, 64))}: use ${COVERAGE_DIMENSIONS.join(', ')}`,
          );
        }
        if (!groupBy.includes(dimension as CoverageDimension)) groupBy.push(dimension as CoverageDimension);
      }
    }
    return {
      ok: true,
      query: {
        groupBy: groupBy.length === 0 ? ['service'] : groupBy,
        filters,
        ...parseRange(params, nowSeconds),
        limit: parseLimit(params, 100),
      },
    };
  } catch (err) {
    if (err instanceof ParamError) return { ok: false, parameter: err.parameter, message: err.message };
    throw err;
  }
}

export function parseTopSpansQuery(params: QueryParams, nowSeconds: number): QueryParseResult<TopSpansQuery> {
  try {
    const filters = parseFilters(params, TOP_SPANS_PARAMS);
    return { ok: true, query: { filters, ...parseRange(params, nowSeconds), limit: parseLimit(params, 20) } };
  } catch (err) {
    if (err instanceof ParamError) return { ok: false, parameter: err.parameter, message: err.message };
    throw err;
  }
}

/**
 * Whether the per-minute rollup holds what the query asks for: rollup dimensions only, whole
 * minutes. Grouped rollup values may include `__other__` (the cardinality bound); filters on
 * the rollup would miss folded values, so `auto` reads it only for unfiltered queries.
 */
export function rollupCanAnswer(query: CostQuery): boolean {
  const dims = [...query.groupBy, ...query.filters.map((f) => f.dimension)];
  return (
    !query.includeCorrections &&
    dims.every((d) => ROLLUP_QUERY_DIMENSIONS.includes(d)) &&
    query.since % 60 === 0 &&
    query.until % 60 === 0 &&
    (query.bucketSeconds === undefined || query.bucketSeconds % 60 === 0)
  );
}
