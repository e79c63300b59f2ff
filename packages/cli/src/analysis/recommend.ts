import { ApiError } from '@costtrace/client';
import type { AggregatorClient, BudgetStatus } from '@costtrace/client';
/**
 * `costtrace recommend`: findings computed from the stored spans, each with its evidence and an
 * estimated monthly saving (the period's excess scaled to a ${730}-hour month):
 *  - cost-regression: a route whose cost per request rose after a commit (latest vs previous commit)
 *  - cheaper-model: a model on a route where another model (configured with --equivalent, or
 *    observed on the same route) serves requests for less
 *  - low-cache-share: routes with long prompts and a low share of cache-read input tokens
 *  - gpu-underutilised: GPU spans whose measured utilisation (costtrace.gpu.utilization) is low
 *  - budget-near: budget keys at or above --budget-threshold percent (aggregator API)
 */
import { divideRoundHalfEven, GpuAttr, HOURS_PER_MONTH } from '@costtrace/core';
import { gpuSpansSql, MAX_QUERY_LIMIT, tokenMixSql } from '@costtrace/store';
import type { SignalRange, SqlReader } from '@costtrace/store';
import type { ArgsResult } from '../args.js';
import { renderRows } from '../table-format.js';
import type { Cell } from '../table-format.js';
import { COMMON_FLAGS_HELP, flag, parseCommand, percentChange, pico, ratio, usd } from './common-flags.js';
import type { CommonArgs } from './common-flags.js';
import { decorate, nowOf, progress, usageError } from './command-deps.js';
import type { AnalysisDeps } from './command-deps.js';

export interface TokenMixRow {
  readonly route: string;
  readonly model: string;
  readonly provider: string;
  readonly inputTokens: bigint;
  readonly cacheReadTokens: bigint;
  readonly requests: bigint;
  /** Pico-USD. */
  readonly costInput: bigint;
}

export interface GpuSpanRow {
  readonly traceId: string;
  readonly spanId: string;
  readonly route: string;
  readonly service: string;
  readonly gpuType: string;
  readonly costTotal: bigint;
  /** 0..1 from costtrace.gpu.utilization, or undefined when not measured. */
  readonly utilization: number | undefined;
}

/** The extra data recommend reads beyond the cost query model. */
export interface RecommendSignals {
  tokenMix(range: SignalRange): Promise<TokenMixRow[]>;
  gpuSpans(range: SignalRange, limit: number): Promise<GpuSpanRow[]>;
}

/** The aggregator's budget API (rejects when unreachable). */
export type BudgetApi = Pick<AggregatorClient, 'listBudgets' | 'budgetStatus'>;

export interface RecommendDeps extends AnalysisDeps {
  readonly signals?: RecommendSignals | undefined;
  readonly budgets?: BudgetApi | undefined;
}

/** RecommendSignals over ClickHouse or DuckDB, with the store-neutral SQL of @costtrace/store. */
export function storeSignals(store: SqlReader): RecommendSignals {
  return {
    tokenMix: async (range) => {
      const rows = await store.select<Record<string, string>>(tokenMixSql(store.database, range, store.literal));
      return rows.map((r) => ({
        route: r.route ?? '',
        model: r.model ?? '',
        provider: r.provider ?? '',
        inputTokens: BigInt(r.input_tokens ?? '0'),
        cacheReadTokens: BigInt(r.cache_read_tokens ?? '0'),
        requests: BigInt(r.requests ?? '0'),
        costInput: pico(r.cost_input ?? '0'),
      }));
    },
    gpuSpans: async (range, limit) => {
      const rows = await store.select<Record<string, string | string[]>>(
        gpuSpansSql(store.database, range, limit, store.literal),
      );
      return rows.map((r) => {
        const keys = (r.attribute_keys ?? []) as string[];
        const values = (r.attribute_values ?? []) as string[];
        const at = keys.indexOf(GpuAttr.utilization);
        const raw = at === -1 ? undefined : Number(values[at]);
        return {
          traceId: String(r.trace_id),
          spanId: String(r.span_id),
          route: String(r.route),
          service: String(r.service),
          gpuType: String(r.gpu_type),
          costTotal: pico(String(r.cost_total)),
          // accept 0..1 or a percentage
          utilization: raw === undefined || !Number.isFinite(raw) ? undefined : raw > 1 ? raw / 100 : raw,
        };
      });
    },
  };
}

export const RECOMMEND_USAGE = `costtrace recommend [--since 7d] [--until T] [--where dim=value]... [--equivalent model=cheaper-model]... [--min-increase-pct 10] [--gpu-utilization-below 0.4] [--budget-threshold 80] [--api-url URL] [--format table|json|csv] [--limit N]`;

export const RECOMMEND_HELP = `usage: ${RECOMMEND_USAGE}

Findings from the stored spans, each with evidence and an estimated monthly saving (the
period's excess × ${HOURS_PER_MONTH} hours ÷ the period's hours), largest saving first:
  cost-regression     a route whose cost per request rose by at least --min-increase-pct
                      (default 10) from one commit to the next (commits ordered by first span)
  cheaper-model       a model with a cheaper equivalent on the same route: pairs given with
                      --equivalent gpt-4o=gpt-4o-mini, or else any model pair observed on the route
  low-cache-share     routes averaging ≥ 1000 input tokens a request with < 10% cache-read
                      tokens; saving assumes half the input could be read from cache at half price
  gpu-underutilised   GPU spans with costtrace.gpu.utilization below --gpu-utilization-below
                      (default 0.4); saving is the idle share of their cost
  budget-near         budget keys at or above --budget-threshold percent (default 80), from
                      the aggregator API (--api-url or COSTTRACE_API_URL); skipped with a note
                      when it is not reachable

${COMMON_FLAGS_HELP}

examples:
  costtrace recommend --since 7d
  costtrace recommend --equivalent gpt-4o=gpt-4o-mini --where route=/v1/chat --format json
  costtrace recommend --since 30d --gpu-utilization-below 0.5 --format csv`;

export interface RecommendArgs {
  readonly common: CommonArgs;
  readonly equivalents: ReadonlyMap<string, string>;
  /** Basis points. */
  readonly minIncreaseBp: bigint;
  readonly gpuBelow: number;
  readonly budgetThreshold: number;
  readonly apiUrl: string | undefined;
}

export function parseRecommendArgs(argv: readonly string[], nowSeconds: number): ArgsResult<RecommendArgs> {
  const parsed = parseCommand(
    argv,
    {
      equivalent: { type: 'string', multiple: true },
      'min-increase-pct': { type: 'string' },
      'gpu-utilization-below': { type: 'string' },
      'budget-threshold': { type: 'string' },
      'api-url': { type: 'string' },
    },
    nowSeconds,
    { since: '7d' },
  );
  if (!parsed.ok) return parsed;
  if (parsed.value.positionals.length > 0)
    return { ok: false, message: `unexpected argument ${JSON.stringify(parsed.value.positionals[0])}` };
  const equivalents = new Map<string, string>();
  for (const e of parsed.value.flags.get('equivalent') ?? []) {
    const [a, b, extra] = e.split('=');
    if (!a || !b || extra !== undefined)
      return { ok: false, message: `--equivalent ${JSON.stringify(e)} is not model=cheaper-model` };
    equivalents.set(a, b);
  }
  const num = (name: string, fallback: string, max: number): number | string => {
    const text = flag(parsed.value.flags, name) ?? fallback;
    const v = Number(text);
    return /^\d+(\.\d+)?$/.test(text) && v <= max ? v : `--${name} must be a number from 0 to ${max}`;
  };
  const inc = num('min-increase-pct', '10', 10_000);
  const gpu = num('gpu-utilization-below', '0.4', 1);
  const budget = num('budget-threshold', '80', 1000);
  for (const v of [inc, gpu, budget]) if (typeof v === 'string') return { ok: false, message: v };
  return {
    ok: true,
    value: {
      common: parsed.value.common,
      equivalents,
      minIncreaseBp: BigInt(Math.round((inc as number) * 100)),
      gpuBelow: gpu as number,
      budgetThreshold: budget as number,
      apiUrl: flag(parsed.value.flags, 'api-url'),
    },
  };
}

export interface Finding {
  readonly kind: string;
  readonly subject: string;
  readonly evidence: string;
  /** Pico-USD a month; null when not estimated. */
  readonly monthlySaving: bigint | null;
}

export async function runRecommend(argv: readonly string[], deps: RecommendDeps): Promise<number> {
  const args = parseRecommendArgs(argv, nowOf(deps));
  if (!args.ok) return usageError('recommend', args.message, RECOMMEND_USAGE, deps.output);
  const a = args.value;
  const { common } = a;
  const periodSeconds = BigInt(common.until - common.since);
  const monthly = (periodAmount: bigint): bigint =>
    divideRoundHalfEven(periodAmount * HOURS_PER_MONTH * 3600n, periodSeconds);
  const findings: Finding[] = [];
  const notes: string[] = [];
  progress(deps, 'querying…');

  // cost-regression: per route, commits in order of first appearance (hourly buckets)
  const series = await deps.source.queryCosts({
    ...common.query,
    groupBy: ['route', 'commit'],
    // fine enough to order commits deployed close together, coarse enough for long periods
    bucketSeconds: periodSeconds <= 6n * 3600n ? 60 : periodSeconds <= 2n * 86_400n ? 300 : 3600,
    orderBy: 'time',
    limit: MAX_QUERY_LIMIT,
  });
  const routes = new Map<string, Map<string, { first: number; cost: bigint; requests: bigint }>>();
  for (const r of series) {
    const route = r.dimensions.route ?? '';
    const commit = r.dimensions.commit ?? '';
    if (route === '' || commit === '') continue;
    const commits = routes.get(route) ?? new Map<string, { first: number; cost: bigint; requests: bigint }>();
    const c = commits.get(commit) ?? { first: r.bucket ?? 0, cost: 0n, requests: 0n };
    commits.set(commit, {
      first: Math.min(c.first, r.bucket ?? 0),
      cost: c.cost + pico(r.cost),
      requests: c.requests + BigInt(r.requests),
    });
    routes.set(route, commits);
  }
  for (const [route, commits] of routes) {
    const ordered = [...commits].filter(([, c]) => c.requests > 0n).sort((x, y) => x[1].first - y[1].first);
    if (ordered.length < 2) continue;
    const [prevName, prev] = ordered[ordered.length - 2]!;
    const [lastName, last] = ordered[ordered.length - 1]!;
    const before = ratio(prev.cost, prev.requests)!;
    const after = ratio(last.cost, last.requests)!;
    if (before === 0n || (after - before) * 10_000n < a.minIncreaseBp * before) continue;
    // the excess of the new commit's requests, at the run rate since it appeared
    const excess = (after - before) * last.requests;
    const since = BigInt(Math.max(1, common.until - Math.max(last.first, common.since)));
    findings.push({
      kind: 'cost-regression',
      subject: route,
      evidence: `cost per request ${usd(before)} at ${prevName} → ${usd(after)} at ${lastName} (+${percentChange(before, after)}%), ${last.requests} requests since`,
      monthlySaving: divideRoundHalfEven(excess * HOURS_PER_MONTH * 3600n, since),
    });
  }

  // cheaper-model: per route, models by cost per request
  const byModel = await deps.source.queryCosts({
    ...common.query,
    groupBy: ['route', 'model'],
    limit: MAX_QUERY_LIMIT,
  });
  const perRoute = new Map<string, { model: string; cost: bigint; requests: bigint }[]>();
  for (const r of byModel) {
    const route = r.dimensions.route ?? '';
    const model = r.dimensions.model ?? '';
    if (model === '' || r.requests === 0) continue;
    const list = perRoute.get(route) ?? [];
    list.push({ model, cost: pico(r.cost), requests: BigInt(r.requests) });
    perRoute.set(route, list);
  }
  for (const [route, models] of perRoute) {
    for (const m of models) {
      const cpr = ratio(m.cost, m.requests)!;
      const configured = a.equivalents.get(m.model);
      const candidates = models.filter((o) => (a.equivalents.size > 0 ? o.model === configured : o.model !== m.model));
      let best: { model: string; cpr: bigint } | undefined;
      for (const o of candidates) {
        const ocpr = ratio(o.cost, o.requests)!;
        if (ocpr < cpr && (best === undefined || ocpr < best.cpr)) best = { model: o.model, cpr: ocpr };
      }
      if (best === undefined) continue;
      findings.push({
        kind: 'cheaper-model',
        subject: `${route || '(no route)'} ${m.model}`,
        evidence: `${m.model} ${usd(cpr)}/request vs ${best.model} ${usd(best.cpr)}/request on the same route (${a.equivalents.size > 0 ? 'configured equivalent' : 'observed on the route'}), ${m.requests} requests`,
        monthlySaving: monthly((cpr - best.cpr) * m.requests),
      });
    }
  }

  // low-cache-share and gpu-underutilised need the signals source
  const range: SignalRange = { since: common.since, until: common.until, filters: common.query.filters };
  if (deps.signals === undefined) notes.push('token-mix and GPU findings skipped: no signal source for this store');
  else {
    for (const t of await deps.signals.tokenMix(range)) {
      if (t.requests === 0n || t.inputTokens === 0n) continue;
      const perRequest = t.inputTokens / t.requests;
      if (perRequest < 1000n || t.cacheReadTokens * 10n >= t.inputTokens) continue;
      const uncached = t.inputTokens - t.cacheReadTokens;
      // cost of the uncached input; half of it read from cache at half price saves a quarter
      const uncachedCost = divideRoundHalfEven(t.costInput * uncached, t.inputTokens);
      findings.push({
        kind: 'low-cache-share',
        subject: `${t.route || '(no route)'} ${t.model}`,
        evidence: `${perRequest} input tokens/request, ${percentChange(t.inputTokens, t.inputTokens + t.cacheReadTokens)}% cache-read, input cost ${usd(t.costInput)} in the period`,
        monthlySaving: monthly(divideRoundHalfEven(uncachedCost, 4n)),
      });
    }
    const gpu = await deps.signals.gpuSpans(range, MAX_QUERY_LIMIT);
    const low = new Map<string, { spans: number; cost: bigint; idle: bigint; utilSum: number }>();
    for (const s of gpu) {
      if (s.utilization === undefined || s.utilization >= a.gpuBelow) continue;
      const key = `${s.service} ${s.route || '(no route)'} ${s.gpuType}`;
      const g = low.get(key) ?? { spans: 0, cost: 0n, idle: 0n, utilSum: 0 };
      const idleBp = BigInt(Math.round((1 - s.utilization) * 10_000));
      low.set(key, {
        spans: g.spans + 1,
        cost: g.cost + s.costTotal,
        idle: g.idle + divideRoundHalfEven(s.costTotal * idleBp, 10_000n),
        utilSum: g.utilSum + s.utilization,
      });
    }
    for (const [key, g] of low) {
      findings.push({
        kind: 'gpu-underutilised',
        subject: key,
        evidence: `${g.spans} GPU spans at ${((g.utilSum / g.spans) * 100).toFixed(1)}% mean utilisation, cost ${usd(g.cost)} in the period`,
        monthlySaving: monthly(g.idle),
      });
    }
    if (gpu.length === 0) notes.push('no GPU spans in the period');
  }

  // budget-near
  if (deps.budgets === undefined) notes.push('budget findings skipped: no aggregator API configured');
  else {
    try {
      const { budgets } = await deps.budgets.listBudgets();
      for (const b of budgets) {
        let status: BudgetStatus;
        try {
          status = await deps.budgets.budgetStatus(b.id, { limit: 100 });
        } catch (err) {
          // A budget whose status the API refuses (e.g. deleted between the calls) is skipped.
          if (err instanceof ApiError && err.code === 'HTTP_STATUS') continue;
          throw err;
        }
        for (const k of status.keys) {
          const percent = k.percent;
          if (!(percent >= a.budgetThreshold)) continue;
          findings.push({
            kind: 'budget-near',
            subject: `${b.id} ${k.scope_key}`,
            evidence: `spend ${k.spend_usd} of ${k.limit_usd} USD (${percent}%)`,
            monthlySaving: null,
          });
        }
      }
    } catch (err) {
      notes.push(
        `budget findings skipped: aggregator API not reachable (${err instanceof Error ? err.message : String(err)})`,
      );
    }
  }

  findings.sort((x, y) => {
    const xs = x.monthlySaving ?? -1n;
    const ys = y.monthlySaving ?? -1n;
    return xs === ys ? x.kind.localeCompare(y.kind) || x.subject.localeCompare(y.subject) : xs > ys ? -1 : 1;
  });
  const shown = findings.slice(0, common.limit ?? findings.length);
  const rows: Cell[][] = shown.map((f) => [
    f.kind,
    f.subject,
    f.monthlySaving === null ? null : usd(f.monthlySaving),
    f.evidence,
  ]);
  deps.output.out(
    decorate(
      deps,
      common.format,
      renderRows(common.format, ['finding', 'subject', 'monthly_saving_usd', 'evidence'], rows),
    ),
  );
  if (common.format === 'table' && notes.length > 0)
    deps.output.out(`\nnotes:\n${notes.map((n) => `  - ${n}`).join('\n')}\n`);
  else for (const n of notes) deps.output.err(`note: ${n}\n`);
  return 0;
}
