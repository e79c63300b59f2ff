import type { Budget } from './budget.js';
import { reachesPercent } from './budget.js';

/** Percentage points a rolling-window alert threshold must fall below before it can fire again. */
export const THRESHOLD_REARM_POINTS = 10;

/**
 * Alert and throttle state of one budget key in one window. Plain JSON-able data so it can be
 * persisted and restored as is; counters make every event identity deterministic.
 */
export interface ThresholdState {
  /** Identity of the current window: the calendar period start, or "rolling". */
  windowId: string;
  /** Thresholds (percent) that fired and have not re-armed. */
  crossed: number[];
  /** How many times each threshold fired in this window (its episode number). */
  episodes: Record<string, number>;
  throttle: {
    engaged: boolean;
    /** Number of breaches (engagements) in this window so far. */
    breach: number;
    sinceMs: number | null;
    /** Since when spend has been below the release level while engaged. */
    belowSinceMs: number | null;
  };
  forecast: { fired: boolean; episode: number };
}

export type ReleaseReason = 'spend_below_release' | 'window_rollover' | 'budget_changed';

export type ThresholdEvent =
  | { readonly type: 'budget.threshold_crossed'; readonly threshold: number; readonly episode: number }
  | { readonly type: 'throttle.engaged'; readonly breach: number }
  | { readonly type: 'throttle.released'; readonly breach: number; readonly reason: ReleaseReason }
  | { readonly type: 'budget.forecast_exceeded'; readonly episode: number };

export interface ThresholdInput {
  /** Exact spend in the current window, 10^-12 USD. */
  readonly spend: bigint;
  readonly nowMs: number;
  readonly windowId: string;
  /** Projected spend at the end of the window (see forecast.ts), when known. */
  readonly projected?: bigint | undefined;
}

export function initialThresholdState(windowId: string): ThresholdState {
  return {
    windowId,
    crossed: [],
    episodes: {},
    throttle: { engaged: false, breach: 0, sinceMs: null, belowSinceMs: null },
    forecast: { fired: false, episode: 0 },
  };
}

/**
 * One evaluation step. Alerts fire once per threshold per window (rolling windows re-arm
 * THRESHOLD_REARM_POINTS below the threshold). The throttle engages at `throttleAtPercent`
 * and releases only after spend stayed below `release.belowPercent` for `release.forMs`
 * (hysteresis: no flapping), or when a calendar window rolls over. Each engagement increments
 * `breach`, so (key, window, breach) identifies exactly one `throttle.engaged`.
 */
export function stepThresholds(
  budget: Budget,
  previous: ThresholdState,
  input: ThresholdInput,
): { state: ThresholdState; events: ThresholdEvent[] } {
  const events: ThresholdEvent[] = [];
  const limit = budget.limit.subunits;
  const rolling = budget.window.kind === 'rolling';
  let state: ThresholdState = {
    ...previous,
    crossed: [...previous.crossed],
    episodes: { ...previous.episodes },
    throttle: { ...previous.throttle },
    forecast: { ...previous.forecast },
  };
  if (state.windowId !== input.windowId) {
    if (state.throttle.engaged) {
      events.push({ type: 'throttle.released', breach: state.throttle.breach, reason: 'window_rollover' });
    }
    state = initialThresholdState(input.windowId);
  }
  for (const threshold of budget.thresholds) {
    const reached = reachesPercent(input.spend, limit, threshold);
    const isCrossed = state.crossed.includes(threshold);
    if (reached && !isCrossed) {
      const episode = (state.episodes[String(threshold)] ?? 0) + 1;
      state.episodes[String(threshold)] = episode;
      state.crossed.push(threshold);
      events.push({ type: 'budget.threshold_crossed', threshold, episode });
    } else if (
      isCrossed &&
      rolling &&
      !reachesPercent(input.spend, limit, Math.max(0.01, threshold - THRESHOLD_REARM_POINTS))
    ) {
      state.crossed = state.crossed.filter((t) => t !== threshold);
    }
  }
  state.crossed.sort((a, b) => a - b);
  if (budget.action !== 'alert') {
    const t = state.throttle;
    if (!t.engaged) {
      if (reachesPercent(input.spend, limit, budget.throttleAtPercent)) {
        t.engaged = true;
        t.breach += 1;
        t.sinceMs = input.nowMs;
        t.belowSinceMs = null;
        events.push({ type: 'throttle.engaged', breach: t.breach });
      }
    } else if (reachesPercent(input.spend, limit, budget.release.belowPercent)) {
      t.belowSinceMs = null;
    } else {
      t.belowSinceMs ??= input.nowMs;
      if (input.nowMs - t.belowSinceMs >= budget.release.forMs) {
        t.engaged = false;
        t.sinceMs = null;
        t.belowSinceMs = null;
        events.push({ type: 'throttle.released', breach: t.breach, reason: 'spend_below_release' });
      }
    }
  } else if (state.throttle.engaged) {
    // The budget was changed to alert-only while throttled.
    events.push({ type: 'throttle.released', breach: state.throttle.breach, reason: 'budget_changed' });
    state.throttle = { ...state.throttle, engaged: false, sinceMs: null, belowSinceMs: null };
  }
  if (budget.forecast && input.projected !== undefined) {
    const f = state.forecast;
    const spendBelow = input.spend < limit;
    if (!f.fired && spendBelow && input.projected >= limit) {
      f.fired = true;
      f.episode += 1;
      events.push({ type: 'budget.forecast_exceeded', episode: f.episode });
    } else if (f.fired && rolling && spendBelow && input.projected * 10n < limit * 9n) {
      f.fired = false;
    }
  }
  return { state, events };
}

/** Whether a thresholds state object read back from storage has the expected shape. */
export function isThresholdState(value: unknown): value is ThresholdState {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<ThresholdState>;
  return (
    typeof v.windowId === 'string' &&
    Array.isArray(v.crossed) &&
    typeof v.episodes === 'object' &&
    typeof v.throttle === 'object' &&
    v.throttle !== null &&
    typeof v.throttle.engaged === 'boolean' &&
    typeof v.forecast === 'object'
  );
}
