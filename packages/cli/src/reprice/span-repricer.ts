import { randomUUID } from 'node:crypto';
import {
  GenAiAttr,
  GpuAttr,
  InstanceAttr,
  Money,
  readSpanUsage,
  SpanCost,
  SpanPricer,
  SpanUsage,
  unixNanoToMillis,
} from '@costtrace/core';
import type { PricingView } from '@costtrace/core';
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
  /** The prices to apply (a snapshot document, or pricing-cache's current snapshot). */
  readonly view: PricingView;
  /** The pricer (input-token rules, self-hosted providers); default core's defaults. */
  readonly pricer?: SpanPricer | undefined;
  /** Write correction rows; without it, only report. */
  readonly apply: boolean;
  readonly reason?: string;
  readonly nowSeconds?: number;
  /** Refuse to load more spans than this into memory. */
  readonly maxSpans?: number;
}

const parse = (text: string, currency: string): Money => Money.parse(text, currency);
const isPositive = (decimal: string): boolean => /[1-9]/.test(decimal);

/**
 * What the spans of a range would cost under another price snapshot, against their current
 * figures (original cost plus corrections already applied), priced by core's pricer at each
 * span's start time. Token components are repriced from the stored usage; GPU and compute
 * components stay as stored (a row keeps no GPU provider, region or pricing model to reprice
 * them with). With `apply`, one correction row per changed span is written
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
  const version = options.view.version;
  const correctionId = `reprice-${version}-${randomUUID().slice(0, 8)}`;
  const pricer = options.pricer ?? new SpanPricer();
  const usage = new SpanUsage();
  const cost = new SpanCost();
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
    const original = parse(row.costTotal, currency);
    const storedGpu = parse(row.costGpu, currency);
    const storedCompute = parse(row.costCompute, currency);
    // Tokens the row did not bill (a self-hosted model's) stay unbilled.
    const billedTokens = original.subunits - storedGpu.subunits - storedCompute.subunits !== 0n;
    const hasTokens = row.model !== '' && row.inputTokens + row.outputTokens > 0 && billedTokens;
    const attributes = new Map<string, unknown>();
    const resource = new Map<string, unknown>();
    if (hasTokens) {
      attributes.set(GenAiAttr.providerName, row.provider || undefined);
      attributes.set(GenAiAttr.requestModel, row.model);
      attributes.set(GenAiAttr.inputTokens, row.inputTokens);
      attributes.set(GenAiAttr.outputTokens, row.outputTokens);
      if (row.cacheReadTokens > 0) attributes.set(GenAiAttr.cacheReadInputTokens, row.cacheReadTokens);
      if (row.cacheWriteTokens > 0) attributes.set(GenAiAttr.cacheCreationInputTokens, row.cacheWriteTokens);
      if (row.reasoningTokens > 0) attributes.set(GenAiAttr.reasoningOutputTokens, row.reasoningTokens);
    }
    // GPU and instance time are priced again only from rows that record what priced them.
    const full = row.usageComplete;
    if (full && isPositive(row.gpuSeconds)) {
      attributes.set(GpuAttr.seconds, row.gpuSeconds);
      if (row.gpuType !== '') attributes.set(GpuAttr.type, row.gpuType);
      if (row.gpuProvider !== '') attributes.set(GpuAttr.provider, row.gpuProvider);
      if (row.gpuPricingModel !== '') attributes.set(GpuAttr.pricingModel, row.gpuPricingModel);
    }
    if (full && isPositive(row.instanceSeconds)) attributes.set(InstanceAttr.shareSeconds, row.instanceSeconds);
    if (row.cloudProvider !== '') resource.set(InstanceAttr.cloudProvider, row.cloudProvider);
    if (row.cloudRegion !== '') resource.set(InstanceAttr.cloudRegion, row.cloudRegion);
    if (row.instanceType !== '') resource.set(InstanceAttr.type, row.instanceType);
    if (row.instancePricingModel !== '') resource.set(InstanceAttr.pricingModel, row.instancePricingModel);
    pricer.price(
      options.view,
      readSpanUsage(attributes, resource, usage),
      unixNanoToMillis(row.startTimeUnixNano),
      cost,
    );
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
    if ((!cost.priced && cost.applicable) || cost.reason !== undefined || (cost.priced && cost.currency !== currency)) {
      unpriceable++;
      line.repriced += current.subunits;
      totalCurrent += current.subunits;
      totalRepriced += current.subunits;
      continue;
    }
    let repriced = Money.fromSubunits(BigInt(cost.total), currency);
    if (!(full && isPositive(row.gpuSeconds))) repriced = repriced.add(storedGpu);
    if (!(full && isPositive(row.instanceSeconds))) repriced = repriced.add(storedCompute);
    line.repriced += repriced.subunits;
    totalCurrent += current.subunits;
    totalRepriced += repriced.subunits;
    if (repriced.equals(current)) continue;
    line.changed++;
    changed++;
    corrections.push({
      correctionId,
      snapshotVersion: version,
      appliedAtUnixSeconds: now,
      reason: options.reason ?? `reprice with ${version}`,
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
    snapshotVersion: version,
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
