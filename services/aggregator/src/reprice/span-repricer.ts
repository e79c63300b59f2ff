import { randomUUID } from 'node:crypto';
import { Money, priceGenAiUsage, GenAiAttr } from '@costtrace/core';
import type { TokenPriceTable } from '@costtrace/core';
import { correctionDeltasSql, repriceCandidatesSql } from '@costtrace/store';
import type { ClickHouseStore, CostCorrectionRow, TopSpansQuery } from '@costtrace/store';

interface CandidateRow {
  trace_id: string;
  span_id: string;
  start_unix: number;
  start_nanos: string;
  service: string;
  environment: string;
  route: string;
  commit: string;
  model: string;
  provider: string;
  team: string;
  tenant: string;
  currency: string;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  cost_gpu: string;
  cost_compute: string;
  cost_total: string;
}

export interface RepriceLine {
  readonly model: string;
  readonly provider: string;
  readonly spans: number;
  /** Spans whose cost changes. */
  readonly changed: number;
  /** Current figures (original plus corrections applied before). */
  readonly current: string;
  readonly repriced: string;
  readonly difference: string;
}

export interface RepriceReport {
  readonly snapshotVersion: string;
  readonly spans: number;
  readonly changed: number;
  /** Spans the snapshot cannot price (kept as they are). */
  readonly unpriceable: number;
  readonly current: string;
  readonly repriced: string;
  readonly difference: string;
  readonly byModel: readonly RepriceLine[];
  /** Set when the corrections were written. */
  readonly correctionId?: string;
  readonly correctionsWritten: number;
}

export interface RepriceOptions {
  readonly query: TopSpansQuery;
  readonly table: TokenPriceTable;
  /** Write correction rows; without it, only report. */
  readonly apply: boolean;
  readonly reason?: string;
  readonly nowSeconds?: number;
  /** Refuse to load more spans than this into memory. */
  readonly maxSpans?: number;
}

const parse = (text: string, currency: string): Money => Money.parse(text, currency);

/**
 * What the spans of a range would cost under another price snapshot, against their current
 * figures (original cost plus corrections already applied). Token components are repriced;
 * GPU and compute components stay. With `apply`, one correction row per changed span is written
 * under one correction id: span_costs is never modified, so every earlier figure stays auditable.
 */
export async function repriceSpans(store: ClickHouseStore, options: RepriceOptions): Promise<RepriceReport> {
  const maxSpans = options.maxSpans ?? 2_000_000;
  const candidates = await store.select<CandidateRow>(
    `${repriceCandidatesSql(store.database, options.query)} LIMIT ${maxSpans + 1}`,
  );
  if (candidates.length > maxSpans) {
    throw new Error(`more than ${maxSpans} spans in the range: narrow it with --since/--until or --where`);
  }
  const deltas = new Map(
    (
      await store.select<{ trace_id: string; span_id: string; delta: string }>(
        correctionDeltasSql(store.database, options.query),
      )
    ).map((r) => [`${r.trace_id}/${r.span_id}`, r.delta]),
  );
  const byModel = new Map<
    string,
    { model: string; provider: string; spans: number; changed: number; current: bigint; repriced: bigint }
  >();
  const corrections: CostCorrectionRow[] = [];
  const correctionId = `reprice-${options.table.version}-${randomUUID().slice(0, 8)}`;
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  let unpriceable = 0;
  let totalCurrent = 0n;
  let totalRepriced = 0n;
  let changed = 0;
  for (const row of candidates) {
    const currency = row.currency || 'USD';
    const delta = deltas.get(`${row.trace_id}/${row.span_id}`);
    const current = parse(row.cost_total, currency).add(
      delta === undefined ? Money.zero(currency) : parse(delta, currency),
    );
    const attributes: Record<string, unknown> = {
      [GenAiAttr.providerName]: row.provider,
      [GenAiAttr.requestModel]: row.model,
      [GenAiAttr.inputTokens]: Number(row.input_tokens),
      [GenAiAttr.outputTokens]: Number(row.output_tokens),
      [GenAiAttr.cacheReadInputTokens]: Number(row.cache_read_tokens) || undefined,
      [GenAiAttr.cacheCreationInputTokens]: Number(row.cache_write_tokens) || undefined,
      [GenAiAttr.reasoningOutputTokens]: Number(row.reasoning_tokens) || undefined,
    };
    const priced = priceGenAiUsage((key) => attributes[key], options.table);
    const key = `${row.provider}/${row.model}`;
    const line = byModel.get(key) ?? {
      model: row.model,
      provider: row.provider,
      spans: 0,
      changed: 0,
      current: 0n,
      repriced: 0n,
    };
    byModel.set(key, line);
    line.spans++;
    line.current += current.subunits;
    if (priced.kind !== 'priced' || priced.cost.total.currency !== currency) {
      unpriceable++;
      line.repriced += current.subunits;
      totalCurrent += current.subunits;
      totalRepriced += current.subunits;
      continue;
    }
    const repriced = priced.cost.total.add(parse(row.cost_gpu, currency)).add(parse(row.cost_compute, currency));
    line.repriced += repriced.subunits;
    totalCurrent += current.subunits;
    totalRepriced += repriced.subunits;
    if (repriced.equals(current)) continue;
    line.changed++;
    changed++;
    corrections.push({
      correctionId,
      snapshotVersion: options.table.version,
      appliedAtUnixSeconds: now,
      reason: options.reason ?? `reprice with ${options.table.version}`,
      startTimeUnixSeconds: Number(row.start_unix),
      traceId: row.trace_id,
      spanId: row.span_id,
      service: row.service,
      environment: row.environment,
      route: row.route,
      commit: row.commit,
      model: row.model,
      provider: row.provider,
      team: row.team,
      tenant: row.tenant,
      currency,
      previousTotal: current,
      correctedTotal: repriced,
    });
  }
  const decimal = (v: bigint): string => Money.fromSubunits(v).toDecimalString();
  let written = 0;
  if (options.apply) {
    for (let i = 0; i < corrections.length; i += 100_000) {
      const chunk = corrections.slice(i, i + 100_000);
      await store.insertCorrections(chunk);
      written += chunk.length;
    }
  }
  return {
    snapshotVersion: options.table.version,
    spans: candidates.length,
    changed,
    unpriceable,
    current: decimal(totalCurrent),
    repriced: decimal(totalRepriced),
    difference: decimal(totalRepriced - totalCurrent),
    byModel: [...byModel.values()]
      .sort((a, b) => (a.provider + a.model < b.provider + b.model ? -1 : 1))
      .map((l) => ({
        model: l.model,
        provider: l.provider,
        spans: l.spans,
        changed: l.changed,
        current: decimal(l.current),
        repriced: decimal(l.repriced),
        difference: decimal(l.repriced - l.current),
      })),
    ...(options.apply && written > 0 ? { correctionId } : {}),
    correctionsWritten: written,
  };
}
