// The aggregator benchmarks' workload: OTLP export requests of unstamped LLM spans (so the
// aggregator prices every one), half gpt-4o-mini, half claude-sonnet-4, 8 attributes per span.
import { randomBytes } from 'node:crypto';

const attr = (key, value) => ({
  key,
  value: typeof value === 'string' ? { stringValue: value } : { intValue: BigInt(value) },
});

/** Request number `m` of `perRequest` spans, all starting now, as an ExportTraceServiceRequest object. */
export function tokenSpanRequest(m, perRequest) {
  const now = BigInt(Date.now()) * 1_000_000n;
  const spans = [];
  for (let s = 0; s < perRequest; s++) {
    const i = m * perRequest + s;
    const openai = i % 2 === 0;
    spans.push({
      traceId: randomBytes(16),
      spanId: randomBytes(8),
      traceState: '',
      parentSpanId: i % 4 === 0 ? Buffer.alloc(0) : randomBytes(8),
      flags: 0,
      name: openai ? 'chat gpt-4o-mini' : 'chat claude-sonnet-4',
      kind: i % 4 === 0 ? 2 : 3,
      startTimeUnixNano: now,
      endTimeUnixNano: now + 250_000_000n,
      attributes: [
        attr('gen_ai.provider.name', openai ? 'openai' : 'anthropic'),
        attr('gen_ai.request.model', openai ? 'gpt-4o-mini' : 'claude-sonnet-4'),
        attr('gen_ai.usage.input_tokens', 1000 + (i % 5000)),
        attr('gen_ai.usage.output_tokens', 100 + (i % 700)),
        attr('gen_ai.usage.cache_read.input_tokens', i % 500),
        attr('http.route', `/v1/route/${i % 20}`),
        attr('costtrace.tenant', `tenant-${i % 50}`),
        attr('http.response.status_code', 200),
      ],
      droppedAttributesCount: 0,
      events: [],
      droppedEventsCount: 0,
      links: [],
      droppedLinksCount: 0,
      status: undefined,
    });
  }
  return {
    resourceSpans: [
      {
        resource: {
          attributes: [
            attr('service.name', `svc-${m % 4}`),
            attr('vcs.ref.head.revision', 'abc1234'),
            attr('deployment.environment.name', 'prod'),
          ],
          droppedAttributesCount: 0,
          entityRefs: [],
        },
        schemaUrl: '',
        scopeSpans: [{ scope: undefined, schemaUrl: '', spans }],
      },
    ],
  };
}

/** The consumer's batch settings in these benchmarks: the aggregator's defaults, RowBinary rows. */
export const BATCH_SETTINGS = {
  pricer: {},
  usageReader: {},
  limits: {},
  audit: false,
  maxDimensionValuesPerHour: 1000,
  output: 'rowbinary',
  budgetRows: false,
};
