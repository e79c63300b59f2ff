import { invalidArgument } from './pricing-error.js';

/**
 * One model call, one charge. Several spans of a trace can carry the usage of the same model
 * call: the client library's own span and an instrumentation's span around it, a wrapper or
 * framework span repeating its child's usage, two emitters writing the same `gen_ai.response.id`;
 * and framework or agent spans sum the usage of their calls. The ledger sees the usage-bearing
 * spans of each trace in the order they end (the SDK) or arrive (the aggregator, per Kafka
 * partition) and decides for each whether it carries a charge:
 *
 * 1. marked or recognised roll-ups (SpanUsage.rollup) are `rollup`;
 * 2. a span with a response id already seen in its trace is a `duplicate` of the span charged
 *    for that response;
 * 3. a span whose children (seen before it, as children end first) carry usage is a `duplicate`
 *    of a child with the same usage key (SpanPricer.usageKey), else a `rollup` of them;
 * 4. a span whose parent (seen before it) is charged with the same usage key is a `duplicate` of
 *    the parent's charge;
 * 5. anything else is a `call`: charged.
 *
 * Decisions are remembered per span id, so the same span from the same origin always gets the
 * same decision (a redelivered batch is decided as it was), while the same span arriving again
 * from another origin (an exporter that re-sent a batch the collector had already taken) is a
 * `duplicate` of itself: its first copy carries the charge. `restore` replays decisions taken
 * earlier (by the SDK on the span, or stored before a restart) without deciding again.
 *
 * Bounded: at most `maxTraces` traces (the least recently touched half forgotten at a time) and
 * `maxSpansPerTrace` usage-bearing spans per trace (later ones are decided against those
 * remembered, not remembered themselves). A duplicate whose sibling was evicted is charged again:
 * the bounds are what limit how far apart, in spans of other traces, two spans of one call may
 * arrive. Pure: no I/O, no clock.
 */
export type UsageRole = 'call' | 'duplicate' | 'rollup';

/** Why a span is not charged, for logs and tests. */
export type LedgerRule =
  'marked' | 'response_id' | 'child_usage' | 'children' | 'parent_usage' | 'repeated_span' | 'restored';

export interface CallDecision {
  readonly role: UsageRole;
  /** For a duplicate: the span id of the charged span. */
  readonly duplicateOf: string | undefined;
  /** The rule that decided a span not charged; undefined for a call. */
  readonly rule: LedgerRule | undefined;
}

/** A usage-bearing span as the ledger needs it (ids in any one consistent text form, e.g. hex). */
export interface UsageSighting {
  readonly traceId: string;
  readonly spanId: string;
  /** Empty for a root span. */
  readonly parentSpanId: string;
  readonly responseId: string | undefined;
  /** SpanPricer.usageKey; empty when the span has no usable token counts. */
  readonly usageKey: string;
  /** The span sums its children's usage (SpanUsage.rollup). */
  readonly rollup: boolean;
  /**
   * Where this copy of the span came from (the aggregator: Kafka offset and index in the
   * message); undefined where each span is seen once (the SDK).
   */
  readonly origin?: string | undefined;
}

export interface ModelCallLedgerOptions {
  /** Traces remembered; default 10,000. */
  readonly maxTraces?: number | undefined;
  /** Usage-bearing spans remembered per trace; default 256. */
  readonly maxSpansPerTrace?: number | undefined;
}

export interface ModelCallLedgerStats {
  readonly duplicates: number;
  readonly rollups: number;
  /** Traces forgotten to stay within maxTraces (half of them at a time). */
  readonly evictedTraces: number;
  /** Spans decided but not remembered (their trace was at maxSpansPerTrace). */
  readonly unremembered: number;
}

interface Entry {
  readonly spanId: string;
  readonly responseId: string | undefined;
  readonly origin: string | undefined;
  readonly parent: string;
  readonly key: string;
  readonly role: UsageRole;
  /** The charged span of this span's call: itself for a call, the original for a duplicate, '' for a roll-up. */
  readonly charged: string;
  readonly rule: LedgerRule | undefined;
}

/**
 * The usage-bearing spans remembered of one trace, in the order they were decided. A list, not
 * maps: a trace holds a handful of model calls (at most maxSpansPerTrace), and one small array per
 * trace costs far less to create and scan than three maps (measured in bench/sdk).
 */
interface TraceCalls {
  readonly entries: Entry[];
}

function find(trace: TraceCalls, spanId: string): Entry | undefined {
  const entries = trace.entries;
  for (let i = 0; i < entries.length; i++) if ((entries[i] as Entry).spanId === spanId) return entries[i];
  return undefined;
}

/** The charged span of the first remembered span of the trace with this response id. */
function chargedFor(trace: TraceCalls, responseId: string): string | undefined {
  const entries = trace.entries;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as Entry;
    if (entry.responseId === responseId && entry.role !== 'rollup') return entry.charged;
  }
  return undefined;
}

const CALL: CallDecision = { role: 'call', duplicateOf: undefined, rule: undefined };

export class ModelCallLedger {
  /**
   * Traces in two generations: new and touched traces go to `recent`; when it holds half of
   * maxTraces, `recent` becomes `older` and the traces `older` held are forgotten. Every step is
   * O(1) (a Map used as an LRU list needs its oldest key, and finding it through the iterator
   * walks every deleted slot before it: microseconds per span at a few thousand traces).
   */
  private recent = new Map<string, TraceCalls>();
  private older = new Map<string, TraceCalls>();
  private readonly maxTraces: number;
  /** Traces per generation: half of maxTraces (at least one). */
  private readonly generationSize: number;
  private readonly maxSpansPerTrace: number;
  private duplicates = 0;
  private rollups = 0;
  private evictedTraces = 0;
  private unremembered = 0;

  constructor(options: ModelCallLedgerOptions = {}) {
    this.maxTraces = positive('maxTraces', options.maxTraces ?? 10_000);
    this.generationSize = Math.max(1, Math.floor(this.maxTraces / 2));
    this.maxSpansPerTrace = positive('maxSpansPerTrace', options.maxSpansPerTrace ?? 256);
  }

  /** Decides whether `span` carries a charge, and remembers it (see the class comment). */
  decide(span: UsageSighting): CallDecision {
    const trace = this.trace(span.traceId);
    const known = find(trace, span.spanId);
    if (known !== undefined) {
      if (known.role === 'call' && known.origin !== undefined && span.origin !== known.origin) {
        this.duplicates++;
        return { role: 'duplicate', duplicateOf: span.spanId, rule: 'repeated_span' };
      }
      return decisionOf(known);
    }

    let decision = CALL;
    if (span.rollup) decision = { role: 'rollup', duplicateOf: undefined, rule: 'marked' };
    else {
      const response = span.responseId === undefined ? undefined : chargedFor(trace, span.responseId);
      if (response !== undefined) decision = { role: 'duplicate', duplicateOf: response, rule: 'response_id' };
      else decision = this.byStructure(trace, span);
      // Spans already marked as repeating this one (restored SDK marks that arrived first) make it
      // the call's charge, not a duplicate of itself.
      if (decision.role === 'duplicate' && decision.duplicateOf === span.spanId) decision = CALL;
    }
    if (decision.role === 'duplicate') this.duplicates++;
    else if (decision.role === 'rollup') this.rollups++;
    this.remember(trace, span, decision);
    return decision;
  }

  /**
   * Remembers a decision taken before (stamped on the span by the SDK, or stored before a
   * restart) as it was, so later spans are decided against it. A span already remembered keeps
   * its first decision.
   */
  restore(span: UsageSighting, role: UsageRole, duplicateOf: string | undefined): CallDecision {
    const trace = this.trace(span.traceId);
    const known = find(trace, span.spanId);
    if (known !== undefined) return decisionOf(known);
    const decision: CallDecision =
      role === 'call'
        ? CALL
        : { role, duplicateOf: role === 'duplicate' ? (duplicateOf ?? '') : undefined, rule: 'restored' };
    this.remember(trace, span, decision);
    return decision;
  }

  stats(): ModelCallLedgerStats {
    return {
      duplicates: this.duplicates,
      rollups: this.rollups,
      evictedTraces: this.evictedTraces,
      unremembered: this.unremembered,
    };
  }

  /** Rules 3 and 4: the span's children seen before it, then its parent. */
  private byStructure(trace: TraceCalls, span: UsageSighting): CallDecision {
    const entries = trace.entries;
    let children = false;
    for (let i = 0; i < entries.length; i++) {
      const child = entries[i] as Entry;
      if (child.parent !== span.spanId) continue;
      children = true;
      if (span.usageKey === '' || child.key !== span.usageKey) continue;
      if (child.role === 'rollup') return { role: 'rollup', duplicateOf: undefined, rule: 'children' };
      return { role: 'duplicate', duplicateOf: child.charged, rule: 'child_usage' };
    }
    if (children) return { role: 'rollup', duplicateOf: undefined, rule: 'children' };
    const parent = span.parentSpanId === '' ? undefined : find(trace, span.parentSpanId);
    if (parent !== undefined && parent.role !== 'rollup' && span.usageKey !== '' && parent.key === span.usageKey) {
      return { role: 'duplicate', duplicateOf: parent.charged, rule: 'parent_usage' };
    }
    return CALL;
  }

  private remember(trace: TraceCalls, span: UsageSighting, decision: CallDecision): void {
    if (trace.entries.length >= this.maxSpansPerTrace) {
      this.unremembered++;
      return;
    }
    trace.entries.push({
      spanId: span.spanId,
      responseId: span.responseId,
      origin: span.origin,
      parent: span.parentSpanId,
      key: span.usageKey,
      role: decision.role,
      charged:
        decision.role === 'call' ? span.spanId : decision.role === 'duplicate' ? (decision.duplicateOf ?? '') : '',
      rule: decision.rule,
    });
  }

  /** The trace's record, made most recently used; the least recently used is evicted beyond maxTraces. */
  private trace(traceId: string): TraceCalls {
    const recent = this.recent.get(traceId);
    if (recent !== undefined) return recent;
    let trace = this.older.get(traceId);
    if (trace !== undefined) this.older.delete(traceId);
    else trace = { entries: [] };
    if (this.recent.size >= this.generationSize) {
      this.evictedTraces += this.older.size;
      this.older = this.recent;
      this.recent = new Map();
    }
    this.recent.set(traceId, trace);
    return trace;
  }
}

function decisionOf(entry: Entry): CallDecision {
  if (entry.role === 'call') return CALL;
  return {
    role: entry.role,
    duplicateOf: entry.role === 'duplicate' ? entry.charged : undefined,
    rule: entry.rule,
  };
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw invalidArgument(name, `must be a positive integer, got ${String(value)}`);
  }
  return value;
}
