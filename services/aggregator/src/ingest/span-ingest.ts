import type { Logger } from 'pino';
import type { ExportTracePartialSuccess, ExportTraceServiceRequest } from '@costtrace/proto';
import { ExportTraceServiceRequest as RequestCodec } from '@costtrace/proto';
import { SpanCostRecord } from '@costtrace/store';
import type { SpanProducer } from '../kafka/span-producer.js';
import type { AggregatorMetrics } from '../operations/aggregator-metrics.js';
import { AttributeTooLarge } from '../otlp/otlp-attributes.js';
import { viewOfRequest } from '../otlp/otlp-wire-reader.js';
import { buildSpanRecords, selectSpans, spanCount } from '../otlp/span-rows.js';
import type { SpanRowOptions, SpanRowsSummary } from '../otlp/span-rows.js';
import { IngestError } from './ingest-error.js';
import { splitRequest } from './request-splitter.js';

export interface SpanIngestOptions {
  readonly producer: SpanProducer;
  /** Validation rules (the consumer applies the same ones); cardinality is not bounded here. */
  readonly rowOptions: SpanRowOptions;
  /** Largest Kafka message; bigger requests are split. */
  readonly maxMessageBytes: number;
  /** Export requests being produced at once; beyond, clients are told to retry (backpressure). */
  readonly maxInFlight: number;
  readonly metrics: AggregatorMetrics;
  readonly logger: Logger;
}

/**
 * What both OTLP receivers do with a decoded request: validate spans (invalid ones are refused
 * and reported as OTLP partial success), split into Kafka-sized messages, produce them and
 * resolve only once Kafka acknowledged every one. Kafka down → IngestError UNAVAILABLE, too
 * many requests in flight → BUSY: the client retries, nothing is acknowledged and then lost.
 */
export class SpanIngest {
  private inFlight = 0;
  private accepted = 0;
  /** Refilled for each span checked (the checks are synchronous, so requests never share it at once). */
  private readonly record = new SpanCostRecord();

  constructor(private readonly options: SpanIngestOptions) {}

  get spansAccepted(): number {
    return this.accepted;
  }

  async accept(
    request: ExportTraceServiceRequest,
    transport: 'grpc' | 'http',
  ): Promise<ExportTracePartialSuccess | undefined> {
    const { metrics } = this.options;
    const total = spanCount(request);
    if (total === 0) return undefined;
    if (this.inFlight >= this.options.maxInFlight) {
      metrics.ingestRequests.inc({ transport, outcome: 'busy' });
      throw new IngestError('BUSY', `more than ${this.options.maxInFlight} export requests in flight; retry shortly`);
    }
    this.inFlight++;
    try {
      // Accept or reject only: the rows are built into one reused record and dropped.
      let checked: SpanRowsSummary;
      try {
        checked = buildSpanRecords(
          viewOfRequest(request),
          { topic: '', partition: 0, offset: 0n },
          Date.now(),
          this.options.rowOptions,
          this.record,
          () => undefined,
        );
      } catch (err) {
        if (!(err instanceof AttributeTooLarge)) throw err;
        metrics.ingestRequests.inc({ transport, outcome: 'invalid' });
        throw new IngestError('INVALID_REQUEST', err.message);
      }
      const reasons = new Map<string, number>();
      for (const r of checked.rejected) {
        reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + 1);
        metrics.spansRejectedAtIngest.inc({ reason: r.reason });
      }
      let accepted = request;
      if (checked.rejected.length > 0) {
        const rejected = new Set(checked.rejected.map((r) => `${r.resourceIndex}/${r.scopeIndex}/${r.spanIndex}`));
        const keep: { resourceIndex: number; scopeIndex: number; spanIndex: number }[] = [];
        request.resourceSpans.forEach((rs, resourceIndex) =>
          rs.scopeSpans.forEach((ss, scopeIndex) =>
            ss.spans.forEach((_span, spanIndex) => {
              if (!rejected.has(`${resourceIndex}/${scopeIndex}/${spanIndex}`))
                keep.push({ resourceIndex, scopeIndex, spanIndex });
            }),
          ),
        );
        accepted = selectSpans(request, keep);
      }
      const { parts, oversizeSpans } = splitRequest(accepted, this.options.maxMessageBytes);
      if (oversizeSpans > 0) {
        reasons.set('span_too_large', oversizeSpans);
        metrics.spansRejectedAtIngest.inc({ reason: 'span_too_large' }, oversizeSpans);
      }
      if (parts.length > 0) {
        const messages = parts.map((part) => ({
          key: serviceKey(part),
          value: Buffer.from(RequestCodec.encode(part).finish()),
        }));
        try {
          await this.options.producer.sendAll(messages);
        } catch (cause) {
          metrics.ingestRequests.inc({ transport, outcome: 'kafka_unavailable' });
          this.options.logger.warn(
            { err: cause, spans: total },
            'Kafka did not acknowledge an OTLP batch; answering retryable',
          );
          throw new IngestError(
            'UNAVAILABLE',
            'span storage temporarily unavailable (Kafka did not acknowledge); retry later',
            { cause },
          );
        }
      }
      const rejectedSpans = checked.rejected.length + oversizeSpans;
      const stored = total - rejectedSpans;
      this.accepted += stored;
      metrics.spansReceived.inc({ transport }, stored);
      metrics.ingestRequests.inc({ transport, outcome: rejectedSpans > 0 ? 'partial' : 'ok' });
      if (rejectedSpans === 0) return undefined;
      const first = checked.rejected[0];
      return {
        rejectedSpans: BigInt(rejectedSpans),
        errorMessage:
          `${rejectedSpans} of ${total} spans rejected (${[...reasons].map(([r, n]) => `${r}: ${n}`).join(', ')})` +
          (first ? `; first: ${first.detail}` : ''),
      };
    } finally {
      this.inFlight--;
    }
  }
}

/**
 * Kafka message key: the `service.name` of the message's first resource. One service's spans
 * then share a partition (ordered, and the consumer's per-partition cardinality state stays
 * small); empty when the resource has no name.
 */
export function serviceKey(request: ExportTraceServiceRequest): string {
  return (
    request.resourceSpans[0]?.resource?.attributes.find((kv) => kv.key === 'service.name')?.value?.stringValue ?? ''
  );
}
