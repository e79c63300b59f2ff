// The span path's decoding and pricing of one otlp_spans message, as the relay in tests and
// benchmarks uses it (one place to follow changes of spanCostRows).
import {
  BUNDLED_TOKEN_PRICES,
  BUNDLED_TOKEN_PRICES_VERSION,
  TokenPriceTable,
  tokenPriceFromRecord,
} from '@costtrace/core';
import { ExportTraceServiceRequest } from '@costtrace/proto';
import type { SpanCostRow } from '@costtrace/store';
import { spanCostRows } from '../../src/index.js';
import type { SpanMessageOrigin } from '../../src/index.js';

const prices = new TokenPriceTable(BUNDLED_TOKEN_PRICES_VERSION, BUNDLED_TOKEN_PRICES.map(tokenPriceFromRecord));

export function otlpRows(value: Buffer, origin: SpanMessageOrigin): SpanCostRow[] {
  return spanCostRows(ExportTraceServiceRequest.decode(value), origin, { prices });
}
