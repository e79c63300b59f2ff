import { randomUUID } from 'node:crypto';
import { Money, priceGenAiUsage, GenAiAttr } from '@costtrace/core';
import type { TokenPriceTable } from '@costtrace/core';
import type { CostCorrectionRow, SpanRepricingStore, TopSpansQuery } from '@costtrace/store';

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
export async function repriceSpans(store: SpanRepricingStore, options: RepriceOptions): Promise<RepriceReport> {
  const maxSpans = options.maxSpans ?? 2_000_000;
  const candidates = await store.repriceCandidates(options.query, maxSpans + 1);
  if (candidates.length > maxSpans) {
    throw new Error(`more than ${maxSpans} spans in the range: narrow it with --since/--until or --where`);
  }
  const deltas = await store.correctionDeltas(options.query);
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
    const delta = deltas.get(`${row.traceId}/${row.spanId}`);
    const current = parse(row.costTotal, currency).add(
      delta === undefined ? Money.zero(currency) : parse(delta, currency),
    );
    const attributes: Record<string, unknown> = {
      [GenAiAttr.providerName]: row.provider,
      [GenAiAttr.requestModel]: row.model,
      [GenAiAttr.inputTokens]: row.inputTokens,
      [GenAiAttr.outputTokens]: row.outputTokens,
      [GenAiAttr.cacheReadInputTokens]: row.cacheReadTokens || undefined,
      [GenAiAttr.cacheCreationInputTokens]: row.cacheWriteTokens || undefined,
      [GenAiAttr.reasoningOutputTokens]: row.reasoningTokens || undefined,
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
    const repriced = priced.cost.total.add(parse(row.costGpu, currency)).add(parse(row.costCompute, currency));
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
      startTimeUnixSeconds: row.startTimeUnixSeconds,
      traceId: row.traceId,
      spanId: row.spanId,
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
