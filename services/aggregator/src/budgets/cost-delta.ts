import { BUDGET_DIMENSIONS, divideRoundHalfEven } from '@costtrace/core';
import type { DimensionValues, UnpricedPolicy } from '@costtrace/core';
import { BudgetCatalog } from './budget-catalog.js';
import type { Budget } from '@costtrace/core';

/** Where a delta came from: the span's Kafka message and its position in it, plus its ids. */
export interface DeltaSource {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  /** Index of the span among the rows of that message (0 for scope deltas). */
  readonly seq: number;
  readonly spanId: string;
  readonly traceId: string;
}

/** Cost a span adds to one budget key. */
export interface BudgetCostDelta {
  readonly kind: 'budget';
  readonly budgetId: string;
  /** Partition key of `cost_deltas`: budget id + per-key dimension values. */
  readonly scopeKey: string;
  readonly dimensions: Readonly<Record<string, string>>;
  /** Event time: the span's end, epoch ms. */
  readonly eventTimeMs: number;
  /** Exact cost, 10^-12 USD. */
  readonly subunits: bigint;
  readonly source: DeltaSource;
}

/**
 * Cost and request count of one (service, route, commit) in one span message, for the
 * anomaly detectors (spend rate per scope, cost per request per commit).
 */
export interface ScopeCostDelta {
  readonly kind: 'scope';
  readonly scopeKey: string;
  readonly service: string;
  readonly route: string;
  readonly commit: string;
  readonly eventTimeMs: number;
  readonly subunits: bigint;
  readonly requests: number;
  /** Σ (cost of each request in USD)², for the variance of cost per request. */
  readonly sumSquaresUsd: number;
  readonly source: DeltaSource;
}

export type CostDelta = BudgetCostDelta | ScopeCostDelta;

export interface BudgetDeltaStats {
  /** Rows skipped because their currency is not USD (budgets are in USD). */
  nonUsdRows: number;
  /** (Unpriced row, matching budget) pairs counted as zero (the budget's `unpriced.count_as: zero`). */
  unpricedAsZero: number;
  /** (Unpriced row, matching budget) pairs given an estimate (`unpriced.count_as: estimate`). */
  unpricedEstimated: number;
}

const PER_MILLION = 1_000_000n;

/** An exact amount: pico-units of a currency (a Money is one). */
export interface Amount {
  readonly subunits: bigint;
  readonly currency: string;
}

/**
 * What budgets read of a stored span row (a SpanCostRow is one). `seq`, the row's index among
 * its message's rows, is given when only some rows of a message are handed off (the consumer
 * hands off the rows that cost something); otherwise rows are numbered in the order given.
 */
export interface BudgetRow {
  readonly kafkaTopic: string;
  readonly kafkaPartition: number;
  readonly kafkaOffset: bigint;
  readonly seq?: number | undefined;
  readonly traceId: string;
  readonly spanId: string;
  readonly endTimeUnixNano: bigint;
  readonly service: string;
  readonly route: string;
  readonly model: string;
  readonly provider: string;
  readonly team: string;
  readonly tenant: string;
  readonly environment: string;
  readonly feature: string;
  readonly commit: string;
  /** The span's job (docs/jobs.md); absent: none. */
  readonly jobId?: string | undefined;
  readonly jobKind?: string | undefined;
  readonly unpricedReason: string;
  readonly usageRole?: string | undefined;
  readonly costTotal: Amount;
  readonly costInput: Amount;
  readonly costOutput: Amount;
  readonly costCacheRead: Amount;
  readonly costCacheWrite: Amount;
  readonly inputTokens: bigint;
  readonly outputTokens: bigint;
  readonly cacheReadTokens: bigint;
  readonly cacheWriteTokens: bigint;
}

/**
 * An unpriced row's spend under an estimating budget: what was priced of it, plus every token at
 * the budget's rate when none of its tokens was priced, plus the per-span amount; exact, each
 * line rounded once half to even (as prices are).
 */
export function unpricedEstimate(row: BudgetRow, policy: UnpricedPolicy): bigint {
  const priced = row.costTotal.currency === 'USD' ? row.costTotal.subunits : 0n;
  const tokenCost =
    row.costInput.subunits + row.costOutput.subunits + row.costCacheRead.subunits + row.costCacheWrite.subunits;
  let estimate = priced + policy.perSpan.subunits;
  if (tokenCost === 0n) {
    const tokens = row.inputTokens + row.outputTokens + row.cacheReadTokens + row.cacheWriteTokens;
    estimate += divideRoundHalfEven(tokens * policy.perMillionTokens.subunits, PER_MILLION);
  }
  return estimate;
}

function dimensionValues(row: BudgetRow): DimensionValues {
  return {
    service: row.service,
    route: row.route,
    model: row.model,
    provider: row.provider,
    team: row.team,
    tenant: row.tenant,
    environment: row.environment,
    feature: row.feature,
    commit: row.commit,
    job_id: row.jobId ?? '',
    job_kind: row.jobKind ?? '',
  };
}

/** Scope key of the anomaly detectors for a service and route. */
export function anomalyScopeKey(service: string, route: string): string {
  return `~scope|service=${encodeURIComponent(service)}|route=${encodeURIComponent(route)}`;
}

/**
 * The hand-off from the span path: for each priced row, one delta per matching budget key, with
 * the span's end time and identity (topic/partition/offset + index in the message + span id), so
 * the evaluator can drop replays. Rows of one message must be passed in their original order
 * (as spanCostRows returns them). With `anomalies` (default true), also one ScopeCostDelta per
 * (message, service, route, commit). Pure: no I/O.
 */
export function budgetDeltas(
  rows: readonly BudgetRow[],
  budgets: BudgetCatalog | readonly Budget[],
  options: { anomalies?: boolean; stats?: BudgetDeltaStats } = {},
): CostDelta[] {
  const catalog = budgets instanceof BudgetCatalog ? budgets : new BudgetCatalog(budgets);
  const out: CostDelta[] = [];
  const scopes = new Map<
    string,
    { delta: ScopeCostDelta; subunits: bigint; requests: number; sumSq: number; time: number }
  >();
  let seq = 0;
  let lastOrigin = '';
  for (const row of rows) {
    const origin = `${row.kafkaTopic}\u0000${row.kafkaPartition}\u0000${row.kafkaOffset}`;
    seq = row.seq ?? (origin === lastOrigin ? seq + 1 : 0);
    lastOrigin = origin;
    const subunits = row.costTotal.subunits;
    if (row.unpricedReason !== '' && (row.usageRole ?? '') === '') {
      unpricedDeltas(row, catalog, seq, out, options.stats);
      continue;
    }
    if (subunits === 0n) continue;
    if (row.costTotal.currency !== 'USD') {
      if (options.stats) options.stats.nonUsdRows++;
      continue;
    }
    const eventTimeMs = Number(row.endTimeUnixNano / 1_000_000n);
    const source: DeltaSource = {
      topic: row.kafkaTopic,
      partition: row.kafkaPartition,
      offset: row.kafkaOffset,
      seq,
      spanId: row.spanId,
      traceId: row.traceId,
    };
    const values = dimensionValues(row);
    for (const { budget, scope } of catalog.matching(values)) {
      out.push({
        kind: 'budget',
        budgetId: budget.id,
        scopeKey: scope.scopeKey(budget.id, values),
        dimensions: scope.keyDimensions(values),
        eventTimeMs,
        subunits,
        source,
      });
    }
    if (options.anomalies ?? true) {
      const scopeKey = anomalyScopeKey(row.service, row.route);
      const k = `${origin}\u0000${scopeKey}\u0000${row.commit}`;
      const usd = Number(subunits) / 1e12;
      const agg = scopes.get(k);
      if (agg === undefined) {
        scopes.set(k, {
          delta: {
            kind: 'scope',
            scopeKey,
            service: row.service,
            route: row.route,
            commit: row.commit,
            eventTimeMs,
            subunits: 0n,
            requests: 0,
            sumSquaresUsd: 0,
            source: { ...source, seq: 0 },
          },
          subunits,
          requests: 1,
          sumSq: usd * usd,
          time: eventTimeMs,
        });
      } else {
        agg.subunits += subunits;
        agg.requests++;
        agg.sumSq += usd * usd;
        agg.time = Math.max(agg.time, eventTimeMs);
      }
    }
  }
  // Scope deltas of one message and commit get seq 0, 1, … in a stable order for dedupe.
  const perOrigin = new Map<string, number>();
  for (const agg of scopes.values()) {
    const originKey = `${agg.delta.source.topic}\u0000${agg.delta.source.partition}\u0000${agg.delta.source.offset}\u0000${agg.delta.scopeKey}`;
    const n = perOrigin.get(originKey) ?? 0;
    perOrigin.set(originKey, n + 1);
    out.push({
      ...agg.delta,
      eventTimeMs: agg.time,
      subunits: agg.subunits,
      requests: agg.requests,
      sumSquaresUsd: agg.sumSq,
      source: { ...agg.delta.source, seq: n },
    });
  }
  return out;
}

/** Wire format of `cost_deltas` values: JSON, amounts and offsets as decimal strings. */
export function encodeDelta(delta: CostDelta): string {
  return JSON.stringify(delta, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

function str(v: unknown, what: string, maxLength = 2048): string {
  if (typeof v !== 'string') throw new Error(`cost delta: ${what} must be a string`);
  if (v.length > maxLength) throw new Error(`cost delta: ${what} longer than ${maxLength} characters`);
  return v;
}

function int(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new Error(`cost delta: ${what} must be an integer`);
  return v;
}

function big(v: unknown, what: string): bigint {
  if (typeof v !== 'string' || !/^-?\d{1,40}$/.test(v))
    throw new Error(`cost delta: ${what} must be an integer string`);
  return BigInt(v);
}

/** Parses and checks one `cost_deltas` value; throws with the reason for the dead-letter topic. */
export function decodeDelta(text: string): CostDelta {
  if (text.length > 64 * 1024) throw new Error('cost delta: larger than 64 KiB');
  const raw = JSON.parse(text) as Record<string, unknown>;
  if (typeof raw !== 'object' || raw === null) throw new Error('cost delta: not a JSON object');
  const s = (raw.source ?? {}) as Record<string, unknown>;
  const source: DeltaSource = {
    topic: str(s.topic, 'source.topic'),
    partition: int(s.partition, 'source.partition'),
    offset: big(s.offset, 'source.offset'),
    seq: int(s.seq, 'source.seq'),
    spanId: str(s.spanId, 'source.spanId'),
    traceId: str(s.traceId, 'source.traceId'),
  };
  if (raw.kind === 'budget') {
    const dims = raw.dimensions;
    if (typeof dims !== 'object' || dims === null || Array.isArray(dims))
      throw new Error('cost delta: dimensions must be an object');
    const entries = Object.entries(dims);
    if (
      entries.length > BUDGET_DIMENSIONS.length ||
      entries.some(([, v]) => typeof v !== 'string' || v.length > 1024)
    ) {
      throw new Error(
        `cost delta: dimensions must be at most ${BUDGET_DIMENSIONS.length} strings of at most 1024 characters`,
      );
    }
    return {
      kind: 'budget',
      budgetId: str(raw.budgetId, 'budgetId'),
      scopeKey: str(raw.scopeKey, 'scopeKey'),
      dimensions: dims as Record<string, string>,
      eventTimeMs: int(raw.eventTimeMs, 'eventTimeMs'),
      subunits: big(raw.subunits, 'subunits'),
      source,
    };
  }
  if (raw.kind === 'scope') {
    return {
      kind: 'scope',
      scopeKey: str(raw.scopeKey, 'scopeKey'),
      service: str(raw.service, 'service'),
      route: str(raw.route, 'route'),
      commit: str(raw.commit, 'commit'),
      eventTimeMs: int(raw.eventTimeMs, 'eventTimeMs'),
      subunits: big(raw.subunits, 'subunits'),
      requests: int(raw.requests, 'requests'),
      sumSquaresUsd: typeof raw.sumSquaresUsd === 'number' ? raw.sumSquaresUsd : 0,
      source,
    };
  }
  throw new Error(`cost delta: unknown kind ${JSON.stringify(raw.kind)}`);
}

/** Deltas of an unpriced row: an estimate for each matching budget that asks for one. */
function unpricedDeltas(
  row: BudgetRow,
  catalog: BudgetCatalog,
  seq: number,
  out: CostDelta[],
  stats: BudgetDeltaStats | undefined,
): void {
  const values = dimensionValues(row);
  for (const { budget, scope } of catalog.matching(values)) {
    if (budget.unpriced.countAs !== 'estimate') {
      if (stats) stats.unpricedAsZero++;
      continue;
    }
    const subunits = unpricedEstimate(row, budget.unpriced);
    if (stats) stats.unpricedEstimated++;
    if (subunits === 0n) continue;
    out.push({
      kind: 'budget',
      budgetId: budget.id,
      scopeKey: scope.scopeKey(budget.id, values),
      dimensions: scope.keyDimensions(values),
      eventTimeMs: Number(row.endTimeUnixNano / 1_000_000n),
      subunits,
      source: {
        topic: row.kafkaTopic,
        partition: row.kafkaPartition,
        offset: row.kafkaOffset,
        seq,
        spanId: row.spanId,
        traceId: row.traceId,
      },
    });
  }
}
