// Builders for OTLP requests with known usage, and their expected costs computed here from the
// providers' list prices (independently of the pricing code). Never connects to anything.
import { randomBytes } from 'node:crypto';
import type { AnyValue, ExportTraceServiceRequest, KeyValue, Span } from '@costtrace/proto';

/** List prices in 10^-12 USD per token (= USD per 1M tokens × 10^6), bundled table 2026-11-01. */
export const PICOS_PER_TOKEN = {
  'gpt-4o-mini': { input: 150_000n, cacheRead: 75_000n, output: 600_000n },
  'claude-sonnet-4': { input: 3_000_000n, cacheRead: 300_000n, cacheWrite: 3_750_000n, output: 15_000_000n },
} as const;

export type AttrValue = string | number | bigint | boolean | string[];

export function anyValue(value: AttrValue): AnyValue {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'bigint') return { intValue: value };
  if (typeof value === 'number') return Number.isInteger(value) ? { intValue: BigInt(value) } : { doubleValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  return { arrayValue: { values: value.map((v) => ({ stringValue: v })) } };
}

export function attrs(record: Record<string, AttrValue>): KeyValue[] {
  return Object.entries(record).map(([key, value]) => ({ key, value: anyValue(value) }));
}

export interface SpanSpec {
  readonly name: string;
  readonly attributes: Record<string, AttrValue>;
  readonly startUnixNano?: bigint;
  readonly durationNanos?: bigint;
  readonly kind?: number;
  readonly parent?: boolean;
  readonly traceId?: Buffer;
}

export function span(spec: SpanSpec): Span {
  const start = spec.startUnixNano ?? BigInt(Date.now()) * 1_000_000n;
  return {
    traceId: spec.traceId ?? randomBytes(16),
    spanId: randomBytes(8),
    traceState: '',
    parentSpanId: spec.parent ? randomBytes(8) : Buffer.alloc(0),
    flags: 0,
    name: spec.name,
    kind: spec.kind ?? 3,
    startTimeUnixNano: start,
    endTimeUnixNano: start + (spec.durationNanos ?? 1_000_000n),
    attributes: attrs(spec.attributes),
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: undefined,
  };
}

export function exportRequest(resource: Record<string, AttrValue>, spans: Span[]): ExportTraceServiceRequest {
  return {
    resourceSpans: [
      {
        resource: { attributes: attrs(resource), droppedAttributesCount: 0, entityRefs: [] },
        schemaUrl: '',
        scopeSpans: [
          {
            scope: { name: 'fixtures', version: '1', attributes: [], droppedAttributesCount: 0 },
            schemaUrl: '',
            spans,
          },
        ],
      },
    ],
  };
}

/** An OpenAI call without cost attributes (priced by the aggregator) and its expected cost. */
export function openAiUsage(input: number, cached: number, output: number, extra: Record<string, AttrValue> = {}) {
  const p = PICOS_PER_TOKEN['gpt-4o-mini'];
  return {
    attributes: {
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.usage.input_tokens': input,
      'gen_ai.usage.cache_read.input_tokens': cached,
      'gen_ai.usage.output_tokens': output,
      ...extra,
    },
    // OpenAI counts cached tokens inside input tokens.
    picos: BigInt(input - cached) * p.input + BigInt(cached) * p.cacheRead + BigInt(output) * p.output,
  };
}

/** An Anthropic call without cost attributes and its expected cost. */
export function anthropicUsage(
  input: number,
  read: number,
  write: number,
  output: number,
  extra: Record<string, AttrValue> = {},
) {
  const p = PICOS_PER_TOKEN['claude-sonnet-4'];
  return {
    attributes: {
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'claude-sonnet-4',
      'gen_ai.usage.input_tokens': input,
      'gen_ai.usage.cache_read.input_tokens': read,
      'gen_ai.usage.cache_creation.input_tokens': write,
      'gen_ai.usage.output_tokens': output,
      ...extra,
    },
    // Anthropic reports input tokens without the cached ones.
    picos:
      BigInt(input) * p.input + BigInt(read) * p.cacheRead + BigInt(write) * p.cacheWrite + BigInt(output) * p.output,
  };
}

/** A span stamped by an SDK with an exact cost (kept as is by the aggregator). */
export function stampedCost(picos: bigint, extra: Record<string, AttrValue> = {}) {
  const whole = picos / 10n ** 12n;
  const fraction = (picos % 10n ** 12n).toString().padStart(12, '0');
  return {
    attributes: {
      'cost.total': `${whole}.${fraction}`,
      'cost.currency': 'USD',
      'cost.pricing.version': 'sdk-test',
      ...extra,
    },
    picos,
  };
}

/** A deterministic pseudo-random generator (mulberry32) so failures reproduce from a seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A mixed workload: `messages` requests of `spansPerMessage` spans, and the exact expected sum.
 * With `spreadSeconds`, span start times are spread over that many seconds before now (so that
 * one batch covers several UTC days, as late spans and retried exports do).
 */
export function mixedWorkload(messages: number, spansPerMessage: number, seed: number, spreadSeconds = 0) {
  const random = seededRandom(seed);
  const nowNanos = BigInt(Date.now()) * 1_000_000n;
  const int = (max: number): number => Math.floor(random() * max);
  const requests: ExportTraceServiceRequest[] = [];
  let expected = 0n;
  const routes = ['/v1/chat', '/v1/summarize', '/v1/embed', '/v1/search'];
  for (let m = 0; m < messages; m++) {
    const spans: Span[] = [];
    for (let s = 0; s < spansPerMessage; s++) {
      const kind = int(3);
      const route = routes[int(routes.length)]!;
      const usage =
        kind === 0
          ? openAiUsage(1000 + int(50_000), int(1000), int(4000), { 'http.route': route })
          : kind === 1
            ? anthropicUsage(int(5000), int(20_000), int(3000), int(4000), { 'http.route': route })
            : stampedCost(BigInt(int(1_000_000_000)) * 1_000n + BigInt(int(1000)), { 'http.route': route });
      expected += usage.picos;
      const startUnixNano =
        spreadSeconds > 0 ? nowNanos - BigInt(Math.floor(random() * spreadSeconds * 1e9)) : undefined;
      spans.push(span({ name: `call-${m}-${s}`, attributes: usage.attributes, startUnixNano }));
    }
    requests.push(exportRequest({ 'service.name': `svc-${m % 3}`, 'vcs.ref.head.revision': `c${m % 5}` }, spans));
  }
  return { requests, expectedPicos: expected, spans: messages * spansPerMessage };
}
