import { CostAttr, DimensionAttr, GenAiAttr, Money, priceGenAiUsage } from '@costtrace/core';
import type { TokenPriceTable } from '@costtrace/core';
import type { SpanCostRow } from '@costtrace/store';
import type { ExportTraceServiceRequest } from '@costtrace/proto';
import { attributeMap, displayString } from './otlp-attributes.js';
import type { PlainValue } from './otlp-attributes.js';

/** Where a batch of spans came from in Kafka; stored with each row for exactly-once storage. */
export interface KafkaOrigin {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

export interface SpanRowOptions {
  /** Prices for spans that arrive without cost attributes (services without the SDK). */
  readonly prices: TokenPriceTable;
  /** At most this many extra attributes are kept per span, values cut to maxExtraValueLength. */
  readonly maxExtraAttributes?: number | undefined;
  readonly maxExtraValueLength?: number | undefined;
}

const ZERO = Money.zero('USD');

/** Attributes that become columns of their own and are not repeated among the extras. */
const COLUMN_KEYS = new Set<string>([
  ...Object.values(CostAttr),
  ...Object.values(GenAiAttr),
  ...Object.values(DimensionAttr),
  'deployment.environment',
]);

function money(value: PlainValue, currency: string): Money {
  return typeof value === 'string' ? Money.parse(value, currency) : Money.zero(currency);
}

function count(value: PlainValue): bigint {
  if (typeof value === 'bigint') return value >= 0n ? value : 0n;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  return 0n;
}

/** One SpanCostRow per span of an OTLP export request. Pure: no I/O. */
export function spanCostRows(
  request: ExportTraceServiceRequest,
  origin: KafkaOrigin,
  options: SpanRowOptions,
): SpanCostRow[] {
  const maxExtras = options.maxExtraAttributes ?? 32;
  const maxValue = options.maxExtraValueLength ?? 256;
  const rows: SpanCostRow[] = [];
  for (const resourceSpans of request.resourceSpans) {
    const resource = attributeMap(resourceSpans.resource?.attributes ?? []);
    for (const scopeSpans of resourceSpans.scopeSpans) {
      for (const span of scopeSpans.spans) {
        const own = attributeMap(span.attributes);
        const get = (key: string): PlainValue => own.get(key) ?? resource.get(key);
        const dim = (key: string): string => displayString(get(key));

        let costs: Pick<
          SpanCostRow,
          | 'costInput'
          | 'costOutput'
          | 'costCacheRead'
          | 'costCacheWrite'
          | 'costReasoning'
          | 'costGpu'
          | 'costCompute'
          | 'costTotal'
          | 'currency'
          | 'pricingVersion'
          | 'pricingSource'
          | 'priceIds'
          | 'unpricedReason'
        >;
        const stamped = get(CostAttr.total);
        if (typeof stamped === 'string') {
          const currency = dim(CostAttr.currency) || 'USD';
          const ids = get(CostAttr.pricingPriceIds);
          costs = {
            costInput: money(get(CostAttr.inputTokens), currency),
            costOutput: money(get(CostAttr.outputTokens), currency),
            costCacheRead: money(get(CostAttr.cacheReadTokens), currency),
            costCacheWrite: money(get(CostAttr.cacheWriteTokens), currency),
            costReasoning: money(get(CostAttr.reasoningTokens), currency),
            costGpu: money(get(CostAttr.gpu), currency),
            costCompute: money(get(CostAttr.compute), currency),
            costTotal: Money.parse(stamped, currency),
            currency,
            pricingVersion: dim(CostAttr.pricingVersion),
            pricingSource: dim(CostAttr.pricingSource),
            priceIds: Array.isArray(ids) ? ids.map(displayString) : [],
            unpricedReason: '',
          };
        } else {
          const result = priceGenAiUsage(get, options.prices);
          costs =
            result.kind === 'priced'
              ? {
                  costInput: result.cost.input,
                  costOutput: result.cost.output,
                  costCacheRead: result.cost.cacheRead,
                  costCacheWrite: result.cost.cacheWrite,
                  costReasoning: result.cost.reasoning,
                  costGpu: ZERO,
                  costCompute: ZERO,
                  costTotal: result.cost.total,
                  currency: result.cost.total.currency,
                  pricingVersion: options.prices.version,
                  pricingSource: 'aggregator',
                  priceIds: [result.cost.priceId],
                  unpricedReason: '',
                }
              : {
                  costInput: ZERO,
                  costOutput: ZERO,
                  costCacheRead: ZERO,
                  costCacheWrite: ZERO,
                  costReasoning: ZERO,
                  costGpu: ZERO,
                  costCompute: ZERO,
                  costTotal: ZERO,
                  currency: 'USD',
                  pricingVersion: '',
                  pricingSource: '',
                  priceIds: [],
                  unpricedReason: result.kind === 'unpriced' ? result.reason : dim(CostAttr.unpricedReason),
                };
        }

        const attributeKeys: string[] = [];
        const attributeValues: string[] = [];
        for (const [key, value] of own) {
          if (attributeKeys.length >= maxExtras) break;
          if (COLUMN_KEYS.has(key)) continue;
          attributeKeys.push(key.slice(0, 128));
          attributeValues.push(displayString(value).slice(0, maxValue));
        }

        rows.push({
          startTimeUnixNano: span.startTimeUnixNano,
          endTimeUnixNano: span.endTimeUnixNano,
          traceId: Buffer.from(span.traceId).toString('hex'),
          spanId: Buffer.from(span.spanId).toString('hex'),
          parentSpanId: Buffer.from(span.parentSpanId).toString('hex'),
          spanName: span.name,
          service: dim(DimensionAttr.serviceName),
          environment: dim(DimensionAttr.environment) || dim('deployment.environment'),
          route: dim(DimensionAttr.httpRoute),
          commit: dim(DimensionAttr.vcsRevision),
          model: dim(GenAiAttr.responseModel) || dim(GenAiAttr.requestModel),
          provider: dim(GenAiAttr.providerName) || dim(GenAiAttr.system),
          team: dim(DimensionAttr.team),
          tenant: dim(DimensionAttr.tenant),
          feature: dim(DimensionAttr.feature),
          inputTokens: count(get(GenAiAttr.inputTokens)),
          outputTokens: count(get(GenAiAttr.outputTokens)),
          cacheReadTokens: count(get(GenAiAttr.cacheReadInputTokens)),
          cacheWriteTokens: count(get(GenAiAttr.cacheCreationInputTokens)),
          reasoningTokens: count(get(GenAiAttr.reasoningOutputTokens)),
          gpuType: '',
          gpuCount: 0,
          gpuSeconds: '0',
          instanceType: '',
          ...costs,
          kafkaTopic: origin.topic,
          kafkaPartition: origin.partition,
          kafkaOffset: origin.offset,
          attributeKeys,
          attributeValues,
        });
      }
    }
  }
  return rows;
}
