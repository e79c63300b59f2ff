/**
 * Reconciliation over a store: both sides read (billed totals, traced usage, the imports' days)
 * and handed to core's `reconcile`, with the list prices of a price snapshot. What the CLI's
 * `costtrace reconcile` and the aggregator's API share.
 */
import {
  catalogListPrices,
  defaultInputTokenRule,
  formatScaled,
  MONEY_SCALE,
  parseScaled,
  reconcile,
  reconcileCompute,
  utcDay,
} from '@costtrace/core';
import type {
  BilledComputeInput,
  BilledInput,
  PriceSnapshot,
  ReconcileDimension,
  ReconcileReport,
  TracedInput,
} from '@costtrace/core';
import { parseTime } from '../query/cost-query.js';
import type { QueryParams, QueryParseResult } from '../query/cost-query.js';
import { TRACED_DIMENSIONS } from './bill-store.js';
import type { BilledTotalRow, BillImportDay, BillStore, TracedDimension, TracedUsageRow } from './bill-store.js';

export interface StoredReconcileQuery {
  /** Unix seconds; whole UTC days are compared (the bills are daily). */
  readonly since: number;
  readonly until: number;
  readonly groupBy: readonly ReconcileDimension[];
  /** Only these providers (empty: all). */
  readonly providers: readonly string[];
  readonly minOverridePercent?: number | undefined;
  /**
   * How the bill's projects (OpenAI project ids, Anthropic workspace ids, cloud sub-accounts) meet
   * the spans when grouped by project: the spans' `from` dimension stands for the project, and
   * `names` turns a bill's project id into that dimension's value (ids not named stay as they are).
   */
  readonly projects?: { readonly from: TracedDimension; readonly names: ReadonlyMap<string, string> } | undefined;
}

/** Kinds a provider's token bill counts (compared with the spans' tokens and token cost). */
const TOKEN_KINDS = new Set(['input', 'output', 'cache_read', 'cache_write', 'requests']);
/** Kinds of cloud instance time (compared with the spans' instance time and compute cost). */
const COMPUTE_KINDS = new Set(['gpu_hours', 'instance_hours']);
/** Bills of a provider's API, where every line belongs to the token comparison. */
const API_SOURCES = new Set(['openai-usage', 'openai-costs', 'anthropic-usage', 'anthropic-cost']);

/**
 * Reads both sides from `store` and reconciles them at the list prices of `snapshot`: tokens (the
 * providers' API bills, and token lines of cloud exports such as Amazon Bedrock) against the
 * spans' tokens and token cost; GPU and instance hours of cloud exports against the spans'
 * instance time and compute cost. Other cloud charges (storage, network, support, tax) have
 * nothing in the spans to compare with: their total is named in a note.
 */
export async function reconcileStored(
  store: BillStore,
  query: StoredReconcileQuery,
  snapshot: PriceSnapshot,
): Promise<ReconcileReport> {
  const providers = query.providers.length > 0 ? query.providers : undefined;
  const range = { since: query.since, until: query.until, providers };
  const byProject = query.groupBy.includes('project');
  const projectFrom = query.projects?.from ?? 'service';
  const [billed, traced, compute, imports] = await Promise.all([
    store.billedTotals({
      ...range,
      groupBy: ['day', 'source', 'provider', 'model', 'service_tier', ...(byProject ? (['project'] as const) : [])],
    }),
    store.tracedUsage({ ...range, groupBy: ['day', 'provider', 'model', ...(byProject ? [projectFrom] : [])] }),
    store.tracedCompute(query.since, query.until),
    store.billImports(100_000),
  ]);
  const tokenRows: BilledTotalRow[] = [];
  const computeRows: BilledTotalRow[] = [];
  const notCompared = new Map<string, bigint>();
  for (const row of billed) {
    if (COMPUTE_KINDS.has(row.kind)) computeRows.push(row);
    else if (TOKEN_KINDS.has(row.kind) || API_SOURCES.has(row.dimensions.source ?? '')) tokenRows.push(row);
    else {
      const key = `${row.dimensions.provider ?? ''} ${row.currency}`;
      notCompared.set(key, (notCompared.get(key) ?? 0n) + parseScaled(row.billedCost, MONEY_SCALE));
    }
  }
  const covers = billCoverage(imports, billed);
  const names = query.projects?.names ?? new Map<string, string>();
  const report = reconcile(
    billedInputs(tokenRows, (id) => names.get(id) ?? id),
    tracedInputs(traced, byProject ? projectFrom : undefined),
    {
      groupBy: query.groupBy,
      catalog: catalogListPrices(snapshot),
      inputIncludesCache: (provider) => defaultInputTokenRule(provider) === 'input-includes-cache',
      billCovers: covers,
      minOverridePercent: query.minOverridePercent,
    },
  );
  const tracedCompute = compute.filter((c) => providers === undefined || providers.includes(c.provider));
  const computed =
    computeRows.length === 0 && tracedCompute.length === 0
      ? undefined
      : reconcileCompute(billedComputeInputs(computeRows), tracedCompute, query.groupBy, covers);
  const notes = [...report.notes];
  for (const [key, amount] of notCompared) {
    if (amount === 0n) continue;
    const [provider, currency] = key.split(' ');
    notes.push(
      `${formatScaled(amount, MONEY_SCALE)} ${currency} of ${provider} charges (storage, network, support, tax…) have nothing in the spans to compare with`,
    );
  }
  return { ...report, ...(computed === undefined ? {} : { compute: computed }), notes };
}

/** Cloud instance lines summed per day, provider, instance type and currency. */
function billedComputeInputs(rows: readonly BilledTotalRow[]): BilledComputeInput[] {
  const sums = new Map<
    string,
    { day: number; provider: string; model: string; currency: string; hours: bigint; gpu: bigint; cost: bigint }
  >();
  for (const r of rows) {
    const day = Number(r.dimensions.day);
    const provider = r.dimensions.provider ?? '';
    const model = r.dimensions.model ?? '';
    const key = `${day}\u0000${provider}\u0000${model}\u0000${r.currency}`;
    const s = sums.get(key) ?? { day, provider, model, currency: r.currency, hours: 0n, gpu: 0n, cost: 0n };
    const hours = parseScaled(r.quantity, MONEY_SCALE);
    s.hours += hours;
    if (r.kind === 'gpu_hours') s.gpu += hours;
    s.cost += parseScaled(r.billedCost, MONEY_SCALE);
    sums.set(key, s);
  }
  return [...sums.values()].map((s) => ({
    day: s.day,
    provider: s.provider,
    model: s.model,
    currency: s.currency,
    hours: formatScaled(s.hours, MONEY_SCALE),
    gpuHours: formatScaled(s.gpu, MONEY_SCALE),
    billedCost: formatScaled(s.cost, MONEY_SCALE),
  }));
}

/** The provider each API-report source bills; exports (focus, aws-cur) say it line by line. */
const SOURCE_PROVIDER: Readonly<Record<string, string>> = {
  'openai-usage': 'openai',
  'openai-costs': 'openai',
  'anthropic-usage': 'anthropic',
  'anthropic-cost': 'anthropic',
  'aws-cur': 'aws',
};

/** Billed rows as reconcile reads them; `project` names the bill's project ids as the spans do. */
export function billedInputs(
  rows: readonly BilledTotalRow[],
  project: (id: string) => string = (id) => id,
): BilledInput[] {
  return rows.map((r) => ({
    day: Number(r.dimensions.day),
    provider: r.dimensions.provider ?? '',
    model: r.dimensions.model ?? '',
    project: project(r.dimensions.project ?? ''),
    serviceTier: r.dimensions.service_tier ?? '',
    kind: r.kind,
    currency: r.currency,
    quantity: r.quantity,
    billedCost: r.billedCost,
    costLines: r.costLines,
  }));
}

/** Traced rows as reconcile reads them; `projectFrom` is the dimension that stands for the project. */
export function tracedInputs(rows: readonly TracedUsageRow[], projectFrom?: TracedDimension): TracedInput[] {
  return rows.map((r) => ({
    day: Number(r.dimensions.day),
    provider: r.dimensions.provider ?? '',
    model: r.dimensions.model ?? '',
    project: projectFrom === undefined ? '' : (r.dimensions[projectFrom] ?? ''),
    currency: r.currency,
    spans: r.spans,
    requests: r.requests,
    inputTokens: r.inputTokens,
    inputWithCacheTokens: r.inputWithCacheTokens,
    unkeyedCacheTokens: r.unkeyedCacheTokens,
    outputTokens: r.outputTokens,
    cacheReadTokens: r.cacheReadTokens,
    cacheWriteTokens: r.cacheWriteTokens,
    cost: r.cost,
    unpricedSpans: r.unpricedSpans,
    unpricedInputTokens: r.unpricedInputTokens,
    unpricedOutputTokens: r.unpricedOutputTokens,
    unpricedCacheReadTokens: r.unpricedCacheReadTokens,
    unpricedCacheWriteTokens: r.unpricedCacheWriteTokens,
  }));
}

/**
 * Whether the bill covers a provider on a day: an import of a provider's API report holds the
 * day (even with no line: nothing was billed), or the imported lines have that provider on it.
 */
export function billCoverage(
  imports: readonly BillImportDay[],
  billed: readonly BilledTotalRow[],
): (provider: string, day: number) => boolean {
  const covered = new Set<string>();
  for (const i of imports) {
    const provider = SOURCE_PROVIDER[i.source];
    if (i.current && provider !== undefined) covered.add(`${provider}\u0000${i.day}`);
  }
  for (const r of billed) covered.add(`${r.dimensions.provider ?? ''}\u0000${r.dimensions.day ?? ''}`);
  return (provider, day) => covered.has(`${provider}\u0000${day}`);
}

const RECONCILE_BY: readonly ReconcileDimension[] = ['day', 'provider', 'model', 'project'];
/** Span dimensions that may stand for the bill's project. */
const PROJECT_FROM: readonly TracedDimension[] = TRACED_DIMENSIONS.filter(
  (d) => !['day', 'provider', 'model', 'route'].includes(d),
);
const MAX_RECONCILE_SECONDS = 400 * 86_400;

/**
 * A reconcile query from parameters (URL query or CLI flags): `since` (default 30d, widened to
 * its UTC day), `until` (default now), `by` (comma lists; default day,provider,model),
 * `provider` (repeatable), `min_override` (percent). Every value is checked; a failure names the
 * parameter.
 */
export function parseReconcileQuery(params: QueryParams, nowSeconds: number): QueryParseResult<StoredReconcileQuery> {
  const one = (name: string): string | undefined => {
    const values = params.get(name);
    return values === undefined || values.length === 0 ? undefined : values[values.length - 1];
  };
  const fail = (parameter: string, message: string): QueryParseResult<StoredReconcileQuery> => ({
    ok: false,
    parameter,
    message,
  });
  let since: number;
  let until: number;
  try {
    since = utcDay(parseTime('since', one('since') ?? '30d', nowSeconds));
    // Up to this second (not the minute, as cost queries align): today's spans all count.
    const untilText = one('until') ?? 'now';
    until = untilText === 'now' ? nowSeconds + 1 : parseTime('until', untilText, nowSeconds);
  } catch (err) {
    const parameter = err instanceof Error && 'parameter' in err ? String(err.parameter) : 'since';
    return fail(parameter, err instanceof Error ? err.message : String(err));
  }
  if (until <= since) return fail('until', 'until must be after since');
  if (until - since > MAX_RECONCILE_SECONDS) return fail('since', 'the period is at most 400 days');
  const groupBy: ReconcileDimension[] = [];
  for (const word of (params.get('by') ?? ['day,provider,model']).flatMap((v) => v.split(','))) {
    const d = word.trim();
    if (d === '') continue;
    if (!(RECONCILE_BY as readonly string[]).includes(d)) {
      return fail('by', `by=${JSON.stringify(d.slice(0, 40))}: use day, provider, model or project`);
    }
    if (!groupBy.includes(d as ReconcileDimension)) groupBy.push(d as ReconcileDimension);
  }
  const providers = params.get('provider') ?? [];
  if (providers.length > 20 || providers.some((p) => !/^[a-z0-9._-]{1,64}$/.test(p))) {
    return fail('provider', 'provider: a provider name such as openai or anthropic (at most 20)');
  }
  const minText = one('min_override') ?? '0.5';
  if (!/^\d{1,3}(\.\d{1,4})?$/.test(minText) || Number(minText) > 100) {
    return fail('min_override', 'min_override: a percent between 0 and 100, e.g. 0.5');
  }
  const from = one('project_from') ?? 'service';
  if (!(PROJECT_FROM as readonly string[]).includes(from)) {
    return fail('project_from', `project_from: one of ${PROJECT_FROM.join(', ')}`);
  }
  const names = new Map<string, string>();
  const pairs = (params.get('project') ?? []).flatMap((v) => v.split(','));
  if (pairs.length > 1000) return fail('project', 'project: at most 1000 names');
  for (const pair of pairs) {
    const match = /^([^=\s]{1,128})=([^=]{1,256})$/.exec(pair.trim());
    if (match === null) {
      return fail('project', `project=${JSON.stringify(pair.slice(0, 60))}: use ID=NAME, e.g. proj_abc=chat-api`);
    }
    names.set(match[1]!, match[2]!);
  }
  return {
    ok: true,
    query: {
      since,
      until,
      groupBy,
      providers: [...providers],
      minOverridePercent: Number(minText),
      projects: { from: from as TracedDimension, names },
    },
  };
}
