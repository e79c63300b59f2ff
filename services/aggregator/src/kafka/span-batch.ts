import type { Buffer } from 'node:buffer';
import { ModelCallLedger, picoToFloat, SpanPricer } from '@costtrace/core';
import type { PriceSource, SpanPricerOptions, UsageReaderOptions } from '@costtrace/core';
import { ExportTraceServiceRequest } from '@costtrace/proto';
import { SpanCostEncoder, SpanCostRecord, rowOfRecord } from '@costtrace/store';
import type { EncodedSpanCosts, SpanCostRow, StoredUsageSpan } from '@costtrace/store';
import type { BudgetRow } from '../budgets/cost-delta.js';
import { CardinalityLimiter } from '../otlp/cardinality-limiter.js';
import type { OtlpTracesView } from '../otlp/otlp-wire-reader.js';
import { buildSpanRecords, selectSpans } from '../otlp/span-rows.js';
import type { AuditDifference, SanitizeReason, SpanLimits, SpanRowOptions } from '../otlp/span-rows.js';
import { decodeSpanMessage, readSpanMessage, SpanMessageError } from './span-message-codec.js';

/**
 * How a batch processor builds rows: plain data, so a worker thread builds them exactly as the
 * consumer's thread would (the same configuration, read once by the service).
 */
export interface SpanBatchSettings {
  readonly pricer: SpanPricerOptions;
  readonly usageReader: UsageReaderOptions;
  readonly limits: Partial<SpanLimits>;
  readonly audit: boolean;
  /** Distinct values per rollup dimension and hour (CardinalityLimiter), per processor. */
  readonly maxDimensionValuesPerHour: number;
  /**
   * 'rowbinary' (what the aggregator uses with ClickHouse) or 'tsv': rows are encoded into the
   * insert body as they are built (stores with insertEncodedSpanCosts); 'rows': row objects
   * (the embedded DuckDB store).
   */
  readonly output: 'rowbinary' | 'tsv' | 'rows';
  /** Also return what budgets need of each row that costs something (the budget hand-off). */
  readonly budgetRows: boolean;
}

/** One Kafka message of a batch. */
export interface BatchMessage {
  readonly offset: string;
  readonly timestamp: string;
  readonly value: Buffer | null;
  readonly contentType: string | undefined;
}

/** One partition's batch as the consumer hands it to a processor. */
export interface SpanBatchJob {
  readonly topic: string;
  readonly partition: number;
  readonly messages: readonly BatchMessage[];
  /**
   * Messages at or below this offset were counted and dead-lettered by the batch that stored
   * rows there: their rows are built again (recovery decides which are stored) but nothing of
   * them is counted or dead-lettered twice.
   */
  readonly storedUpTo: bigint;
  /**
   * The partition's model-call ledger: `generation` names the consumer's current run of the
   * partition; `restore` (sent on the first batch of a generation) is what the store holds.
   * Absent: no ledger.
   */
  readonly ledger?: LedgerJob | undefined;
}

export interface LedgerJob {
  readonly generation: number;
  readonly maxTraces: number;
  readonly restore?: readonly StoredUsageSpan[] | undefined;
}

/** A message that goes to the dead-letter topic, and why. */
export interface BatchDeadLetter {
  /** Index of the message in the job. */
  readonly message: number;
  readonly reason: string;
  readonly detail: string;
  readonly spans: number;
  /** The rejected spans as a request of their own; absent: the message as it came. */
  readonly value?: Uint8Array | undefined;
}

/** What the consumer adds to its metrics for a batch (messages above storedUpTo only). */
export interface BatchCounts {
  spansConsumed: number;
  pricedHere: number;
  upperBound: number;
  unpriced: number;
  duplicates: number;
  rollups: number;
  usageExact: number;
  usageUpperBound: number;
  usageUnpriced: number;
  sanitized: Partial<Record<SanitizeReason, number>>;
  rejected: Record<string, number>;
  /** Another tool's cost compared with ours, by `key|agrees` or `key|differs`. */
  emittedCosts: Record<string, number>;
  auditDifferences: number;
  /** Rollup dimension values folded into `__other__` by the cardinality bound. */
  rollupValuesFolded: number;
}

/** At most this many audit differences and differing emitted costs are returned for the log. */
const MAX_SAMPLES = 20;

export interface ProcessedSpanBatch {
  readonly rows: number;
  /** The rows encoded for the store (output 'rowbinary' or 'tsv'). */
  readonly encoded?: EncodedSpanCosts | undefined;
  /** The rows as objects (output 'rows'). */
  readonly objects?: SpanCostRow[] | undefined;
  /** Per row: the index of its message in the job, and its span index in the message. */
  readonly rowMessages: Uint32Array;
  readonly rowSpans: Uint32Array;
  /** Per row: the start of the minute its span starts in (unix seconds: the rollup's bucket). */
  readonly rowMinutes: Float64Array;
  /** Per row: its cost as a float (for the cost-by-service metric) and its key in costKeys. */
  readonly rowCosts: Float64Array;
  readonly rowCostKeys: Uint32Array;
  readonly costKeys: readonly { readonly service: string; readonly currency: string }[];
  readonly deadLetters: readonly BatchDeadLetter[];
  readonly counts: BatchCounts;
  readonly auditSamples: readonly (AuditDifference & { readonly offset: string })[];
  readonly emittedSamples: readonly {
    readonly offset: string;
    readonly key: string;
    readonly emitted: number;
    readonly costtrace: string;
    readonly traceId: string;
    readonly spanId: string;
  }[];
  /** The rows that matter to budgets (a cost, or unpriced usage), with their seq in the message. */
  readonly budgetRows: readonly BudgetRow[];
}

/** The worker no longer holds the partition's ledger (it was restarted): send the restore again. */
export class LedgerStateLost extends Error {
  override readonly name = 'LedgerStateLost';
}

const NANOS_PER_SECOND = 1_000_000_000n;

function emptyCounts(): BatchCounts {
  return {
    spansConsumed: 0,
    pricedHere: 0,
    upperBound: 0,
    unpriced: 0,
    duplicates: 0,
    rollups: 0,
    usageExact: 0,
    usageUpperBound: 0,
    usageUnpriced: 0,
    sanitized: {},
    rejected: {},
    emittedCosts: {},
    auditDifferences: 0,
    rollupValuesFolded: 0,
  };
}

/** Growable per-row columns. */
class RowColumns {
  messages = new Uint32Array(1024);
  spans = new Uint32Array(1024);
  minutes = new Float64Array(1024);
  costs = new Float64Array(1024);
  costKeys = new Uint32Array(1024);
  count = 0;

  push(message: number, span: number, minute: number, cost: number, costKey: number): void {
    if (this.count === this.messages.length) this.grow();
    const i = this.count++;
    this.messages[i] = message;
    this.spans[i] = span;
    this.minutes[i] = minute;
    this.costs[i] = cost;
    this.costKeys[i] = costKey;
  }

  private grow(): void {
    const size = this.messages.length * 2;
    const grow = <T extends Uint32Array | Float64Array>(from: T, to: T): T => {
      to.set(from);
      return to;
    };
    this.messages = grow(this.messages, new Uint32Array(size));
    this.spans = grow(this.spans, new Uint32Array(size));
    this.minutes = grow(this.minutes, new Float64Array(size));
    this.costs = grow(this.costs, new Float64Array(size));
    this.costKeys = grow(this.costKeys, new Uint32Array(size));
  }
}

/**
 * Decodes, validates, prices and encodes the batches of the partitions it is given: the pure
 * work of the consumer, run in the consumer's thread or in a worker thread (the state it keeps
 * per partition, the model-call ledgers, stays with the processor the partition is routed to).
 */
export class SpanBatchProcessor {
  private readonly pricer: SpanPricer;
  private readonly cardinality: CardinalityLimiter;
  private readonly ledgers = new Map<number, { generation: number; ledger: ModelCallLedger }>();
  private readonly encoder: SpanCostEncoder | undefined;
  private readonly record = new SpanCostRecord();

  constructor(
    private readonly settings: SpanBatchSettings,
    private readonly prices: PriceSource,
  ) {
    this.pricer = new SpanPricer(settings.pricer);
    this.cardinality = new CardinalityLimiter(settings.maxDimensionValuesPerHour);
    this.encoder =
      settings.output === 'rows'
        ? undefined
        : new SpanCostEncoder(settings.output === 'tsv' ? 'TabSeparated' : 'RowBinary');
  }

  /** Rollup values folded into `__other__` so far by this processor. */
  get foldedValues(): number {
    return this.cardinality.foldedCount;
  }

  private ledgerFor(partition: number, job: LedgerJob | undefined): ModelCallLedger | undefined {
    if (job === undefined) return undefined;
    const held = this.ledgers.get(partition);
    if (job.restore === undefined) {
      if (held === undefined || held.generation !== job.generation) {
        throw new LedgerStateLost(`no ledger of generation ${job.generation} for partition ${partition}`);
      }
      return held.ledger;
    }
    const ledger = new ModelCallLedger({ maxTraces: job.maxTraces });
    for (const s of job.restore) {
      const role = s.usageRole === 'duplicate' || s.usageRole === 'rollup' ? s.usageRole : 'call';
      ledger.restore(
        {
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId,
          responseId: s.responseId === '' ? undefined : s.responseId,
          usageKey: s.usageKey,
          rollup: role === 'rollup',
          origin: s.origin,
        },
        role,
        s.duplicateOf,
      );
    }
    this.ledgers.set(partition, { generation: job.generation, ledger });
    return ledger;
  }

  /** Forgets a partition's ledger (it was revoked). */
  forget(partition: number): void {
    this.ledgers.delete(partition);
  }

  process(job: SpanBatchJob): ProcessedSpanBatch {
    const { topic, partition } = job;
    const ledger = this.ledgerFor(partition, job.ledger);
    const options: SpanRowOptions = {
      prices: this.prices,
      pricer: this.pricer,
      usageReader: this.settings.usageReader,
      limits: this.settings.limits,
      audit: this.settings.audit,
      cardinality: this.cardinality,
      ledger,
    };
    const columns = new RowColumns();
    const objects: SpanCostRow[] | undefined = this.settings.output === 'rows' ? [] : undefined;
    const budgetRows: BudgetRow[] = [];
    const costKeys: { service: string; currency: string }[] = [];
    const costKeyIndex = new Map<string, number>();
    const deadLetters: BatchDeadLetter[] = [];
    const counts = emptyCounts();
    const auditSamples: (AuditDifference & { offset: string })[] = [];
    const emittedSamples: ProcessedSpanBatch['emittedSamples'][number][] = [];
    const encoder = this.encoder;
    const wantBudgetRows = this.settings.budgetRows;
    // Rows of a message mostly share their service: the cost key of the last row is tried first.
    let lastService = '';
    let lastCurrency = '';
    let lastCostKey = -1;

    for (let m = 0; m < job.messages.length; m++) {
      const message = job.messages[m]!;
      const offset = BigInt(message.offset);
      const again = offset <= job.storedUpTo;
      let view: OtlpTracesView;
      try {
        view = readSpanMessage(message.value, message.contentType);
      } catch (err) {
        if (!again) {
          const reason = err instanceof SpanMessageError ? err.reason : 'undecodable_protobuf';
          deadLetters.push({ message: m, reason, detail: (err as Error).message, spans: 0 });
        }
        continue;
      }
      if (view.spanCount === 0) {
        if (!again)
          deadLetters.push({ message: m, reason: 'no_spans', detail: 'the request holds no spans', spans: 0 });
        continue;
      }
      const timestamp = Number(message.timestamp);
      let seq = 0;
      let folded = 0;
      const summary = buildSpanRecords(
        view,
        { topic, partition, offset },
        Number.isFinite(timestamp) && timestamp > 0 ? timestamp : Date.now(),
        options,
        this.record,
        (r) => {
          const minute = Number(r.startTimeUnixNano / NANOS_PER_SECOND);
          let costKey = lastCostKey;
          if (r.service !== lastService || r.currency !== lastCurrency) {
            const key = `${r.service}\u0000${r.currency}`;
            costKey = costKeyIndex.get(key) ?? costKeys.push({ service: r.service, currency: r.currency }) - 1;
            costKeyIndex.set(key, costKey);
            lastService = r.service;
            lastCurrency = r.currency;
            lastCostKey = costKey;
          }
          columns.push(m, r.kafkaSpanIndex, minute - (minute % 60), picoToFloat(r.costTotal), costKey);
          folded += r.rollupOverflow.length;
          if (encoder !== undefined) encoder.add(r);
          if (objects !== undefined) objects.push(rowOfRecord(r));
          if (wantBudgetRows) {
            const total = BigInt(r.costTotal);
            if (total !== 0n || (r.unpricedReason !== '' && r.usageRole === ''))
              budgetRows.push(budgetRow(r, seq, total));
          }
          seq++;
        },
      );
      if (again) continue;
      counts.spansConsumed += view.spanCount;
      counts.rollupValuesFolded += folded;
      for (const [reason, n] of summary.sanitized) counts.sanitized[reason] = (counts.sanitized[reason] ?? 0) + n;
      counts.pricedHere += summary.pricedHere;
      counts.upperBound += summary.upperBound;
      counts.unpriced += summary.unpriced;
      counts.duplicates += summary.duplicates;
      counts.rollups += summary.rollups;
      counts.usageExact += summary.usage.exact;
      counts.usageUpperBound += summary.usage.upperBound;
      counts.usageUnpriced += summary.usage.unpriced;
      for (const compared of summary.emittedCosts) {
        const k = `${compared.key}|${compared.agrees ? 'agrees' : 'differs'}`;
        counts.emittedCosts[k] = (counts.emittedCosts[k] ?? 0) + 1;
        if (!compared.agrees && emittedSamples.length < MAX_SAMPLES) {
          emittedSamples.push({
            offset: message.offset,
            key: compared.key,
            emitted: compared.emitted,
            costtrace: compared.costtrace,
            traceId: compared.traceId,
            spanId: compared.spanId,
          });
        }
      }
      counts.auditDifferences += summary.auditDifferences.length;
      for (const diff of summary.auditDifferences) {
        if (auditSamples.length < MAX_SAMPLES) auditSamples.push({ ...diff, offset: message.offset });
      }
      if (summary.rejected.length > 0) {
        const reasons = new Map<string, number>();
        for (const r of summary.rejected) {
          reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + 1);
          counts.rejected[r.reason] = (counts.rejected[r.reason] ?? 0) + 1;
        }
        // The rejected spans as a request of their own: decoded again completely (rare), so
        // the dead letter keeps every field they came with.
        const full = decodeSpanMessage(message.value, message.contentType);
        deadLetters.push({
          message: m,
          reason: [...reasons.keys()].join(','),
          detail: summary.rejected
            .slice(0, 10)
            .map((r) => `${r.reason}: ${r.detail}`)
            .join('; '),
          spans: summary.rejected.length,
          value: ExportTraceServiceRequest.encode(selectSpans(full, summary.rejected)).finish(),
        });
      }
    }
    const rows = columns.count;
    return {
      rows,
      encoded: encoder?.finish(),
      objects,
      rowMessages: columns.messages.slice(0, rows),
      rowSpans: columns.spans.slice(0, rows),
      rowMinutes: columns.minutes.slice(0, rows),
      rowCosts: columns.costs.slice(0, rows),
      rowCostKeys: columns.costKeys.slice(0, rows),
      costKeys,
      deadLetters,
      counts,
      auditSamples,
      emittedSamples,
      budgetRows,
    };
  }
}

function budgetRow(r: SpanCostRecord, seq: number, total: bigint): BudgetRow {
  const currency = r.currency;
  return {
    kafkaTopic: r.kafkaTopic,
    kafkaPartition: r.kafkaPartition,
    kafkaOffset: r.kafkaOffset,
    seq,
    traceId: r.traceId,
    spanId: r.spanId,
    endTimeUnixNano: r.endTimeUnixNano,
    service: r.service,
    route: r.route,
    model: r.model,
    provider: r.provider,
    team: r.team,
    tenant: r.tenant,
    environment: r.environment,
    feature: r.feature,
    commit: r.commit,
    jobId: r.jobId,
    jobKind: r.jobKind,
    unpricedReason: r.unpricedReason,
    usageRole: r.usageRole,
    costTotal: { subunits: total, currency },
    costInput: { subunits: BigInt(r.costInput), currency },
    costOutput: { subunits: BigInt(r.costOutput), currency },
    costCacheRead: { subunits: BigInt(r.costCacheRead), currency },
    costCacheWrite: { subunits: BigInt(r.costCacheWrite), currency },
    inputTokens: r.inputTokens,
    outputTokens: r.outputTokens,
    cacheReadTokens: r.cacheReadTokens,
    cacheWriteTokens: r.cacheWriteTokens,
  };
}
