import {
  calendarPeriod,
  CommitShiftDetector,
  forecastSampleMs,
  forecastSpend,
  initialThresholdState,
  isThresholdState,
  percentOfLimit,
  RollingWindow,
  SpendRateDetector,
  stepThresholds,
  windowSignature,
} from '@costtrace/core';
import type { Budget, Forecast, ThresholdState } from '@costtrace/core';
import type { WebhookEvent } from '../webhooks/webhook-event.js';
import type { BudgetCatalog } from './budget-catalog.js';
import { activeThrottle, anomalyEventPayload, budgetEventId, budgetEventPayload } from './budget-events.js';
import type { KeyView } from './budget-events.js';
import type { BudgetCostDelta, CostDelta, ScopeCostDelta } from './cost-delta.js';
import type { ActiveThrottle } from './throttle.js';

/** Sample window of the burn rate of calendar budgets. */
const CALENDAR_RATE_WINDOW_MS = 15 * 60_000;

interface KeyState {
  readonly budgetId: string;
  readonly scopeKey: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly partition: number;
  signature: string;
  rolling: RollingWindow | null;
  calendar: { startMs: number; endMs: number; total: bigint } | null;
  /** Burn-rate sampler of calendar budgets. */
  rate: RollingWindow | null;
  thresholds: ThresholdState;
  /** Per source topic/partition: last applied (offset, seq). Bounded by source partition count. */
  watermarks: Map<string, { offset: bigint; seq: number }>;
  firstSeenMs: number;
  /**
   * Event time of the delta that created the key: part of a rolling window's identity, so a key
   * evicted when idle and created again later gets new event ids (replays of the same deltas
   * re-create the same epoch, hence the same ids).
   */
  epochMs: number;
  lastSeenMs: number;
  forecast: Forecast | null;
  dirty: boolean;
}

/** What the engine asks its owner to do after a step. */
export interface EngineOutput {
  /** Webhook events with the endpoint ids they go to. */
  readonly events: { readonly event: WebhookEvent; readonly webhooks: readonly string[] }[];
  /** Throttles that engaged (or changed) and scope keys that released. */
  readonly engaged: ActiveThrottle[];
  readonly released: { readonly scopeKey: string; readonly budgetId: string }[];
}

/** Persisted form of one key (JSON in budget_key_state.state). */
export interface KeySnapshot {
  readonly v: 1;
  readonly budgetId: string;
  readonly scopeKey: string;
  readonly dimensions: Record<string, string>;
  readonly partition: number;
  readonly signature: string;
  readonly buckets: [number, string][] | null;
  readonly calendar: { startMs: number; endMs: number; total: string } | null;
  readonly rate: [number, string][] | null;
  readonly thresholds: ThresholdState;
  readonly watermarks: [string, string, number][];
  readonly firstSeenMs: number;
  readonly epochMs?: number;
  readonly lastSeenMs: number;
}

export interface KeyStatus {
  readonly budgetId: string;
  readonly scopeKey: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly spend: bigint;
  readonly limit: bigint;
  readonly percent: number;
  readonly windowStartMs: number;
  readonly windowEndMs: number;
  readonly thresholdsCrossed: readonly number[];
  readonly throttle: ThresholdState['throttle'];
  readonly expectedUntilMs: number | null;
  readonly forecast: Forecast | null;
  readonly lastSeenMs: number;
  /** False when read from persisted state of a key another instance evaluates. */
  readonly live?: boolean;
}

export interface EngineStats {
  deltasApplied: number;
  duplicatesDropped: number;
  lateDropped: number;
  unknownBudget: number;
  keysOverCap: number;
}

export interface BudgetEngineOptions {
  readonly catalog: () => BudgetCatalog;
  readonly anomalies?:
    { readonly spendRate?: SpendRateDetector; readonly commitShift?: CommitShiftDetector } | undefined;
  /** Called once per budget when its key cap is first hit. */
  readonly onKeyCap?: ((budgetId: string, cap: number) => void) | undefined;
}

const empty = (): {
  events: EngineOutput['events'];
  engaged: ActiveThrottle[];
  released: EngineOutput['released'];
} => ({
  events: [],
  engaged: [],
  released: [],
});

/** Anomaly-scope replay watermarks kept (scope keys × source partitions). */
const MAX_SCOPE_WATERMARKS = 100_000;

/**
 * Rolling spend and threshold state of the budget keys one evaluator owns. No I/O: the owner
 * feeds deltas and clock ticks, persists snapshots of dirty keys and delivers the events.
 * Replays are dropped by per-source watermarks (a span message is processed in offset order,
 * so a delta at or below the last applied (offset, seq) of its source partition was counted).
 */
export class BudgetEngine {
  private readonly keys = new Map<string, KeyState>();
  private readonly keysPerBudget = new Map<string, number>();
  private readonly capReported = new Set<string>();
  private readonly overCap = new Map<string, number>();
  private readonly spendRate: SpendRateDetector;
  private readonly commitShift: CommitShiftDetector;
  /**
   * Last applied (offset, seq) per anomaly scope and source partition, so a replayed span
   * message does not count twice toward the anomaly detectors. In memory, like their baselines;
   * bounded (oldest entries go first).
   */
  private readonly scopeWatermarks = new Map<string, { offset: bigint; seq: number }>();
  readonly stats: EngineStats = {
    deltasApplied: 0,
    duplicatesDropped: 0,
    lateDropped: 0,
    unknownBudget: 0,
    keysOverCap: 0,
  };

  constructor(private readonly options: BudgetEngineOptions) {
    this.spendRate = options.anomalies?.spendRate ?? new SpendRateDetector();
    this.commitShift = options.anomalies?.commitShift ?? new CommitShiftDetector();
  }

  get size(): number {
    return this.keys.size;
  }

  /** Current exact spend of one key (0 when not tracked here). */
  spend(scopeKey: string, nowMs: number): bigint {
    const state = this.keys.get(scopeKey);
    return state === undefined ? 0n : this.spendOf(state, nowMs);
  }

  /** Keys over the cap of a budget (counted, not tracked). */
  keysOverCapOf(budgetId: string): number {
    return this.overCap.get(budgetId) ?? 0;
  }

  apply(delta: CostDelta, partition: number, nowMs: number): EngineOutput {
    return delta.kind === 'budget' ? this.applyBudget(delta, partition, nowMs) : this.applyScope(delta, nowMs);
  }

  /** Advances time: ages rolling windows, rolls calendar periods, releases throttles, forecasts. */
  tick(nowMs: number): EngineOutput {
    const out = empty();
    const catalog = this.options.catalog();
    for (const state of this.keys.values()) {
      const compiled = catalog.get(state.budgetId);
      if (compiled === undefined) {
        this.forget(state, out);
        continue;
      }
      this.evaluate(state, compiled.budget, nowMs, out);
      const idleFor = nowMs - state.lastSeenMs;
      const windowMs =
        compiled.budget.window.kind === 'rolling'
          ? compiled.budget.window.durationMs
          : state.calendar!.endMs - state.calendar!.startMs;
      if (!state.thresholds.throttle.engaged && idleFor > windowMs && this.spendOf(state, nowMs) === 0n) {
        this.keys.delete(state.scopeKey);
        this.keysPerBudget.set(state.budgetId, (this.keysPerBudget.get(state.budgetId) ?? 1) - 1);
      }
    }
    this.spendRate.advance(nowMs);
    return out;
  }

  /** Drops the keys of partitions this instance no longer owns (after a rebalance). */
  dropPartitions(keep: ReadonlySet<number>): number {
    let dropped = 0;
    for (const state of [...this.keys.values()]) {
      if (!keep.has(state.partition)) {
        this.keys.delete(state.scopeKey);
        this.keysPerBudget.set(state.budgetId, (this.keysPerBudget.get(state.budgetId) ?? 1) - 1);
        dropped++;
      }
    }
    return dropped;
  }

  /** Snapshots of keys changed since the last call (and marks them clean). */
  takeDirty(): KeySnapshot[] {
    const out: KeySnapshot[] = [];
    for (const state of this.keys.values()) {
      if (!state.dirty) continue;
      state.dirty = false;
      out.push(this.snapshot(state));
    }
    return out;
  }

  snapshot(state: KeyState): KeySnapshot {
    return {
      v: 1,
      budgetId: state.budgetId,
      scopeKey: state.scopeKey,
      dimensions: { ...state.dimensions },
      partition: state.partition,
      signature: state.signature,
      buckets: state.rolling?.buckets().map((b) => [b.index, b.subunits.toString()]) ?? null,
      calendar: state.calendar === null ? null : { ...state.calendar, total: state.calendar.total.toString() },
      rate: state.rate?.buckets().map((b) => [b.index, b.subunits.toString()]) ?? null,
      thresholds: state.thresholds,
      watermarks: [...state.watermarks].map(([src, w]) => [src, w.offset.toString(), w.seq]),
      firstSeenMs: state.firstSeenMs,
      epochMs: state.epochMs,
      lastSeenMs: state.lastSeenMs,
    };
  }

  /**
   * Restores keys from snapshots (on partition assignment). Returns the throttles that are
   * engaged in the restored state, so the owner can re-publish them; fires no events.
   */
  restore(snapshots: readonly KeySnapshot[], nowMs: number): ActiveThrottle[] {
    const catalog = this.options.catalog();
    const engaged: ActiveThrottle[] = [];
    for (const s of snapshots) {
      const compiled = catalog.get(s.budgetId);
      if (compiled === undefined || !isThresholdState(s.thresholds)) continue;
      const budget = compiled.budget;
      const state = this.newState(
        budget,
        s.scopeKey,
        s.dimensions,
        s.partition,
        s.firstSeenMs,
        s.epochMs ?? s.firstSeenMs,
      );
      if (s.signature === state.signature) {
        state.rolling?.restore(
          (s.buckets ?? []).map(([index, v]) => ({ index, subunits: BigInt(v) })),
          nowMs,
        );
        if (state.calendar !== null && s.calendar !== null) {
          state.calendar = { startMs: s.calendar.startMs, endMs: s.calendar.endMs, total: BigInt(s.calendar.total) };
        }
        state.rate?.restore(
          (s.rate ?? []).map(([index, v]) => ({ index, subunits: BigInt(v) })),
          nowMs,
        );
        state.thresholds = s.thresholds;
      } else {
        state.thresholds = { ...initialThresholdState('changed'), throttle: { ...s.thresholds.throttle } };
      }
      for (const [src, offset, seq] of s.watermarks) state.watermarks.set(src, { offset: BigInt(offset), seq });
      state.lastSeenMs = s.lastSeenMs;
      state.dirty = false; // identical to what is stored
      if (!this.keys.has(s.scopeKey)) this.keysPerBudget.set(budget.id, (this.keysPerBudget.get(budget.id) ?? 0) + 1);
      this.keys.set(s.scopeKey, state);
      const view = this.view(state, budget, nowMs);
      const throttle = activeThrottle(
        view,
        budgetEventId(view, { type: 'throttle.engaged', breach: state.thresholds.throttle.breach }),
      );
      if (throttle !== null) engaged.push(throttle);
    }
    return engaged;
  }

  status(budgetId: string | undefined, nowMs: number): KeyStatus[] {
    const catalog = this.options.catalog();
    const out: KeyStatus[] = [];
    for (const state of this.keys.values()) {
      if (budgetId !== undefined && state.budgetId !== budgetId) continue;
      const budget = catalog.get(state.budgetId)?.budget;
      if (budget === undefined) continue;
      const view = this.view(state, budget, nowMs);
      out.push({
        budgetId: state.budgetId,
        scopeKey: state.scopeKey,
        dimensions: state.dimensions,
        spend: view.spend,
        limit: budget.limit.subunits,
        percent: percentOfLimit(view.spend, budget.limit.subunits),
        windowStartMs: view.windowStartMs,
        windowEndMs: view.windowEndMs,
        thresholdsCrossed: [...state.thresholds.crossed],
        throttle: { ...state.thresholds.throttle },
        expectedUntilMs: state.thresholds.throttle.engaged ? view.expectedUntilMs : null,
        forecast: state.forecast,
        lastSeenMs: state.lastSeenMs,
      });
    }
    return out.sort((a, b) => (a.scopeKey < b.scopeKey ? -1 : 1));
  }

  throttles(nowMs: number): ActiveThrottle[] {
    const catalog = this.options.catalog();
    const out: ActiveThrottle[] = [];
    for (const state of this.keys.values()) {
      if (!state.thresholds.throttle.engaged) continue;
      const budget = catalog.get(state.budgetId)?.budget;
      if (budget === undefined) continue;
      const view = this.view(state, budget, nowMs);
      const t = activeThrottle(
        view,
        budgetEventId(view, { type: 'throttle.engaged', breach: state.thresholds.throttle.breach }),
      );
      if (t !== null) out.push(t);
    }
    return out;
  }

  private applyBudget(delta: BudgetCostDelta, partition: number, nowMs: number): EngineOutput {
    const out = empty();
    const compiled = this.options.catalog().get(delta.budgetId);
    if (compiled === undefined) {
      this.stats.unknownBudget++;
      return out;
    }
    const budget = compiled.budget;
    let state = this.keys.get(delta.scopeKey);
    if (state === undefined) {
      const count = this.keysPerBudget.get(budget.id) ?? 0;
      if (count >= budget.maxKeys) {
        this.stats.keysOverCap++;
        this.overCap.set(budget.id, (this.overCap.get(budget.id) ?? 0) + 1);
        if (!this.capReported.has(budget.id)) {
          this.capReported.add(budget.id);
          this.options.onKeyCap?.(budget.id, budget.maxKeys);
        }
        return out;
      }
      state = this.newState(budget, delta.scopeKey, delta.dimensions, partition, nowMs, delta.eventTimeMs);
      this.keys.set(delta.scopeKey, state);
      this.keysPerBudget.set(budget.id, count + 1);
    }
    const src = `${delta.source.topic}/${delta.source.partition}`;
    const mark = state.watermarks.get(src);
    if (
      mark !== undefined &&
      (delta.source.offset < mark.offset || (delta.source.offset === mark.offset && delta.source.seq <= mark.seq))
    ) {
      this.stats.duplicatesDropped++;
      return out;
    }
    state.watermarks.set(src, { offset: delta.source.offset, seq: delta.source.seq });
    state.dirty = true;
    state.lastSeenMs = Math.max(state.lastSeenMs, nowMs);
    this.sync(state, budget, nowMs);
    let counted: boolean;
    if (state.rolling !== null) counted = state.rolling.add(delta.eventTimeMs, delta.subunits, nowMs);
    else {
      const cal = state.calendar!;
      counted = delta.eventTimeMs >= cal.startMs;
      if (counted) cal.total += delta.subunits;
      state.rate?.add(delta.eventTimeMs, delta.subunits, nowMs);
    }
    if (counted) this.stats.deltasApplied++;
    else this.stats.lateDropped++;
    this.evaluate(state, budget, nowMs, out);
    return out;
  }

  private applyScope(delta: ScopeCostDelta, nowMs: number): EngineOutput {
    const out = empty();
    const src = `${delta.scopeKey}\u0000${delta.source.topic}/${delta.source.partition}`;
    const mark = this.scopeWatermarks.get(src);
    if (
      mark !== undefined &&
      (delta.source.offset < mark.offset || (delta.source.offset === mark.offset && delta.source.seq <= mark.seq))
    ) {
      this.stats.duplicatesDropped++;
      return out;
    }
    this.scopeWatermarks.delete(src);
    this.scopeWatermarks.set(src, { offset: delta.source.offset, seq: delta.source.seq });
    if (this.scopeWatermarks.size > MAX_SCOPE_WATERMARKS) {
      const oldest = this.scopeWatermarks.keys().next();
      if (oldest.done !== true) this.scopeWatermarks.delete(oldest.value);
    }
    const catalog = this.options.catalog();
    const scope = { key: delta.scopeKey, service: delta.service, route: delta.route };
    const rate = this.spendRate.observe(delta.scopeKey, delta.eventTimeMs, delta.subunits);
    if (rate !== null)
      out.events.push({ event: anomalyEventPayload(rate, scope, nowMs), webhooks: catalog.anomalyWebhooks });
    if (delta.commit !== '') {
      const shift = this.commitShift.observe(
        delta.scopeKey,
        delta.commit,
        delta.requests,
        delta.subunits,
        delta.sumSquaresUsd,
      );
      if (shift !== null)
        out.events.push({ event: anomalyEventPayload(shift, scope, nowMs), webhooks: catalog.anomalyWebhooks });
    }
    return out;
  }

  private newState(
    budget: Budget,
    scopeKey: string,
    dimensions: Readonly<Record<string, string>>,
    partition: number,
    nowMs: number,
    epochMs: number,
  ): KeyState {
    const rolling = budget.window.kind === 'rolling' ? new RollingWindow(budget.window.durationMs) : null;
    const calendar =
      budget.window.kind === 'calendar'
        ? { ...calendarPeriod(nowMs, budget.window.period, budget.window.timeZone), total: 0n }
        : null;
    return {
      budgetId: budget.id,
      scopeKey,
      dimensions: { ...dimensions },
      partition,
      signature: windowSignature(budget),
      rolling,
      calendar,
      rate: calendar !== null && budget.forecast ? new RollingWindow(CALENDAR_RATE_WINDOW_MS) : null,
      thresholds: initialThresholdState(rolling !== null ? `rolling@${epochMs}` : String(calendar!.startMs)),
      watermarks: new Map(),
      firstSeenMs: nowMs,
      epochMs,
      lastSeenMs: nowMs,
      forecast: null,
      dirty: true,
    };
  }

  /** Aligns a key with its budget's current window definition and calendar period. */
  private sync(state: KeyState, budget: Budget, nowMs: number): void {
    const signature = windowSignature(budget);
    if (signature !== state.signature) {
      // The window changed (e.g. 1h → 1d): spend so far cannot be mapped; start afresh but keep
      // the throttle so that a change of definition never fires a second engagement by itself.
      const fresh = this.newState(budget, state.scopeKey, state.dimensions, state.partition, nowMs, state.epochMs);
      state.signature = signature;
      state.rolling = fresh.rolling;
      state.calendar = fresh.calendar;
      state.rate = fresh.rate;
      state.dirty = true;
    }
    if (state.calendar !== null && budget.window.kind === 'calendar' && nowMs >= state.calendar.endMs) {
      state.calendar = { ...calendarPeriod(nowMs, budget.window.period, budget.window.timeZone), total: 0n };
      state.dirty = true;
    }
  }

  private spendOf(state: KeyState, nowMs: number): bigint {
    return state.rolling !== null ? state.rolling.total(nowMs) : state.calendar!.total;
  }

  private view(state: KeyState, budget: Budget, nowMs: number): KeyView {
    const spend = this.spendOf(state, nowMs);
    let expectedUntilMs: number | null = null;
    if (state.thresholds.throttle.engaged) {
      if (state.rolling !== null) {
        // Released once spend ≤ the highest amount below the release percent, for `forMs`.
        const level =
          (budget.limit.subunits * BigInt(Math.round(budget.release.belowPercent * 100)) + 9_999n) / 10_000n - 1n;
        const below = state.thresholds.throttle.belowSinceMs ?? state.rolling.dropsToAt(level < 0n ? 0n : level, nowMs);
        expectedUntilMs = below + budget.release.forMs;
      } else expectedUntilMs = state.calendar!.endMs;
    }
    return {
      budget,
      scopeKey: state.scopeKey,
      dimensions: state.dimensions,
      spend,
      windowStartMs: state.rolling !== null ? state.rolling.windowStart(nowMs) : state.calendar!.startMs,
      windowEndMs: state.rolling !== null ? nowMs : state.calendar!.endMs,
      windowId: state.rolling !== null ? `rolling@${state.epochMs}` : String(state.calendar!.startMs),
      forecast: state.forecast,
      thresholds: state.thresholds,
      expectedUntilMs,
    };
  }

  private evaluate(state: KeyState, budget: Budget, nowMs: number, out: ReturnType<typeof empty>): void {
    this.sync(state, budget, nowMs);
    const spend = this.spendOf(state, nowMs);
    let forecast: Forecast | null = null;
    if (budget.forecast) {
      if (state.rolling !== null && budget.window.kind === 'rolling') {
        const sampleMs = forecastSampleMs(budget.window.durationMs, state.rolling.bucketMs);
        const sampleSpend = state.rolling.recent(nowMs, sampleMs);
        forecast = forecastSpend({
          spend,
          limit: budget.limit.subunits,
          nowMs,
          sampleSpend,
          sampleMs,
          window: budget.window,
        });
      } else if (state.rate !== null && state.calendar !== null) {
        forecast = forecastSpend({
          spend,
          limit: budget.limit.subunits,
          nowMs,
          sampleSpend: state.rate.total(nowMs),
          sampleMs: CALENDAR_RATE_WINDOW_MS,
          window: { kind: 'calendar', endMs: state.calendar.endMs },
        });
      }
    }
    state.forecast = forecast;
    // A forecast is only trusted once the key has been observed for a full sample.
    const sampled =
      budget.window.kind === 'rolling'
        ? nowMs - state.firstSeenMs >= forecastSampleMs(budget.window.durationMs, state.rolling!.bucketMs)
        : nowMs - state.firstSeenMs >= CALENDAR_RATE_WINDOW_MS;
    const windowId = state.rolling !== null ? `rolling@${state.epochMs}` : String(state.calendar!.startMs);
    const before = state.thresholds;
    const { state: next, events } = stepThresholds(budget, before, {
      spend,
      nowMs,
      windowId,
      projected: forecast !== null && sampled ? forecast.projected : undefined,
    });
    if (
      events.length === 0 &&
      next.throttle.belowSinceMs === before.throttle.belowSinceMs &&
      next.windowId === before.windowId &&
      next.crossed.length === before.crossed.length &&
      next.forecast.fired === before.forecast.fired
    )
      return; // nothing changed (re-arming a threshold or the forecast is a change)
    // Keep the previous window's id for a rollover release, so its id names the window it ended.
    state.thresholds = next;
    state.dirty = true;
    for (const event of events) {
      const view = this.view(state, budget, nowMs);
      const eventView =
        event.type === 'throttle.released' && event.reason === 'window_rollover'
          ? { ...view, windowId: before.windowId }
          : view;
      out.events.push({ event: budgetEventPayload(eventView, event, nowMs), webhooks: budget.webhooks });
      if (event.type === 'throttle.engaged') {
        const t = activeThrottle(view, budgetEventId(view, event));
        if (t !== null) out.engaged.push(t);
      } else if (event.type === 'throttle.released') {
        out.released.push({ scopeKey: state.scopeKey, budgetId: state.budgetId });
      }
    }
  }

  private forget(state: KeyState, out: ReturnType<typeof empty>): void {
    if (state.thresholds.throttle.engaged) out.released.push({ scopeKey: state.scopeKey, budgetId: state.budgetId });
    this.keys.delete(state.scopeKey);
    this.keysPerBudget.set(state.budgetId, (this.keysPerBudget.get(state.budgetId) ?? 1) - 1);
  }
}
