// A deterministic set of stored span rows for query tests, with the dimension values each row
// has, so that expected answers can be computed here independently of SQL. Never connects.
import { Money } from '@costtrace/core';
import type { SpanCostRow } from '@costtrace/store';

export const TRICKY_VALUES = ["it's", 'back\\slash', "x' OR '1'='1", 'plain', 'ünïcødé'];

export function costDataset(count: number, nowSeconds: number): SpanCostRow[] {
  const out: SpanCostRow[] = [];
  for (let i = 0; i < count; i++) {
    const start = BigInt(nowSeconds - 3600 + ((i * 53) % 3500)) * 1_000_000_000n;
    const cost = Money.fromSubunits(BigInt(1 + ((i * 7919) % 100_000)) * 1_000_003n);
    const tricky = TRICKY_VALUES[i % TRICKY_VALUES.length]!;
    out.push({
      startTimeUnixNano: start,
      endTimeUnixNano: start + 1_000_000n,
      traceId: (i % 41).toString(16).padStart(32, '0'),
      spanId: (i + 1).toString(16).padStart(16, '0'),
      parentSpanId: i % 3 === 0 ? '' : '00000000000000aa',
      spanName: `span-${i % 4}`,
      spanKind: i % 3 === 0 ? 2 : 3,
      statusCode: 0,
      isRequest: i % 3 === 0,
      service: `svc-${i % 3}`,
      environment: i % 2 ? 'prod' : 'staging',
      route: `/r/${tricky}`,
      commit: `c${i % 7}`,
      model: i % 2 ? 'gpt-4o-mini' : 'claude-sonnet-4',
      provider: i % 2 ? 'openai' : 'anthropic',
      team: `team-${i % 2}`,
      tenant: i % 5 === 0 ? 'acme' : `tenant-${i % 11}`,
      feature: `feature-${i % 2}`,
      // Every fourth span in a job; the kinds cycle.
      jobId: i % 4 === 1 ? `job-${tricky}` : '',
      jobKind: i % 4 === 1 ? (i % 8 === 1 ? 'training' : 'evaluation') : '',
      jobEpoch: i % 4 === 1 ? i % 3 : -1,
      jobSamples: i % 4 === 1 ? i * 10 : 0,
      inputTokens: BigInt(i * 3),
      outputTokens: BigInt(i),
      cacheReadTokens: 0n,
      cacheWriteTokens: 0n,
      reasoningTokens: 0n,
      gpuType: i % 4 === 0 ? 'H100' : '',
      gpuCount: 0,
      gpuSeconds: '0',
      instanceType: i % 4 === 0 ? 'p5.48xlarge' : '',
      costInput: cost,
      costOutput: Money.zero(),
      costCacheRead: Money.zero(),
      costCacheWrite: Money.zero(),
      costReasoning: Money.zero(),
      costGpu: Money.zero(),
      costCompute: Money.zero(),
      costTotal: cost,
      currency: 'USD',
      pricingVersion: i % 2 ? 'v1' : 'v2',
      pricingSource: 'aggregator',
      priceIds: [],
      unpricedReason: '',
      kafkaTopic: 'query-test',
      kafkaPartition: 0,
      kafkaOffset: BigInt(i),
      kafkaSpanIndex: 0,
      attributeKeys: [],
      attributeValues: [],
      rollupOverflow: [],
      sanitized: [],
    });
  }
  return out;
}

/** The value a row has for a query dimension (the allow-list names). */
export function dimensionValue(row: SpanCostRow, dimension: string): string {
  const map: Record<string, string> = {
    service: row.service,
    environment: row.environment,
    route: row.route,
    commit: row.commit,
    model: row.model,
    provider: row.provider,
    team: row.team,
    tenant: row.tenant,
    feature: row.feature,
    span_name: row.spanName,
    currency: row.currency,
    pricing_version: row.pricingVersion,
    trace_id: row.traceId,
    gpu_type: row.gpuType,
    instance_type: row.instanceType,
    job_id: row.jobId ?? '',
    job_kind: row.jobKind ?? '',
  };
  const value = map[dimension];
  if (value === undefined) throw new Error(`no dimension ${dimension}`);
  return value;
}
