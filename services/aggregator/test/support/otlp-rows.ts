// The span path's decoding and pricing of one otlp_spans message, as the relay in tests and
// benchmarks uses it (one place to follow changes of spanCostRows).
import { ExportTraceServiceRequest } from '@costtrace/proto';
import type { SpanCostRow } from '@costtrace/store';
import { bundledPricingView, StaticPriceSource } from '@costtrace/core';
import { spanCostRows } from '../../src/index.js';
import type { SpanMessageOrigin } from '../../src/budgets/span-delta-relay.js';

const prices = new StaticPriceSource(bundledPricingView());

export function otlpRows(value: Buffer, origin: SpanMessageOrigin): SpanCostRow[] {
  return spanCostRows(ExportTraceServiceRequest.decode(value), origin, Date.now(), { prices }).rows;
}
