// Synthetic SpanCostRow values for tests (no I/O). Cost is given in 10^-12 USD.
import { Money } from '@costtrace/core';
import type { SpanCostRow } from '@costtrace/store';

let counter = 0;

export function costRow(
  fields: Partial<Omit<SpanCostRow, 'costTotal'>> & { picos: bigint; endMs?: number; offset?: bigint },
): SpanCostRow {
  counter++;
  const endMs = fields.endMs ?? Date.now();
  const zero = Money.zero('USD');
  const { picos, endMs: _e, offset, ...rest } = fields;
  // Fields the span path's row type gains on the aggregator branch (spread, so this compiles
  // against either version of SpanCostRow).
  const upcoming = {
    spanKind: 2,
    statusCode: 0,
    isRequest: true,
    rollupOverflow: [] as string[],
    sanitized: [] as string[],
  };
  return {
    ...upcoming,
    startTimeUnixNano: BigInt(endMs - 5) * 1_000_000n,
    endTimeUnixNano: BigInt(endMs) * 1_000_000n,
    traceId: counter.toString(16).padStart(32, '0'),
    spanId: counter.toString(16).padStart(16, '0'),
    parentSpanId: '',
    spanName: 'chat',
    service: 'chat-api',
    environment: 'prod',
    route: '/v1/chat',
    commit: 'c1',
    model: 'gpt-4o-mini',
    provider: 'openai',
    team: 'ml',
    tenant: 'acme',
    feature: '',
    inputTokens: 0n,
    outputTokens: 0n,
    cacheReadTokens: 0n,
    cacheWriteTokens: 0n,
    reasoningTokens: 0n,
    gpuType: '',
    gpuCount: 0,
    gpuSeconds: '0',
    instanceType: '',
    costInput: zero,
    costOutput: zero,
    costCacheRead: zero,
    costCacheWrite: zero,
    costReasoning: zero,
    costGpu: zero,
    costCompute: Money.fromSubunits(picos),
    currency: 'USD',
    pricingVersion: 'test',
    pricingSource: 'sdk',
    priceIds: [],
    unpricedReason: '',
    kafkaTopic: 'otlp_spans',
    kafkaPartition: 0,
    kafkaOffset: offset ?? BigInt(counter),
    kafkaSpanIndex: 0,
    attributeKeys: [],
    attributeValues: [],
    ...rest,
    costTotal: Money.fromSubunits(picos),
  };
}
