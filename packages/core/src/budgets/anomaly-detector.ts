/**
 * Cost anomaly detection, two detectors, both documented in docs/budgets-and-webhooks.md and measured in
 * test/budgets/anomaly-detector.test.ts on a demo-like load:
 *
 * 1. SpendRateDetector — cost per minute of a scope (service × route) against its own baseline.
 *    The baseline is an exponentially weighted mean and variance (EWMA, α = 0.1 ≈ the last
 *    ~20 minutes) of past minutes, minutes without traffic counting as zero. A minute is
 *    anomalous when its cost exceeds mean + z·σ (z = 6), is at least `minRatio` (3×) the mean,
 *    and exceeds the mean by at least `minAbsoluteUsd`. σ is floored at 10 % of the mean, so
 *    a very regular scope does not alarm on small wobbles. The check runs on the running total
 *    of the current minute, so a spike is reported while it happens, at most once per scope per
 *    minute, after a warm-up of 15 minutes. The value folded into the baseline is clipped at the
 *    alarm level, so one spike does not hide the next.
 * 2. CommitShiftDetector — cost per request of a scope by commit. When a new commit appears, its
 *    mean cost per request is compared with the previous commit's once both have ≥ 30 requests;
 *    it is an anomaly when the new mean is ≥ 1.5× the old one and Welch's t ≥ 5. Once per
 *    (scope, commit). Only the two latest commits per scope are kept (bounded memory).
 *
 * Statistics use binary floating point: they decide alarms and never feed money totals; amounts
 * in findings are reported as exact decimal strings computed from bigint sums.
 */

const USD = 1e12;

export interface SpendRateOptions {
  readonly minuteMs?: number;
  readonly alpha?: number;
  readonly z?: number;
  readonly minRatio?: number;
  readonly minAbsoluteUsd?: number;
  readonly warmupMinutes?: number;
  /** Most scopes tracked; new scopes beyond are ignored and counted. */
  readonly maxScopes?: number;
}

export interface SpendRateFinding {
  readonly kind: 'spend_rate';
  readonly scope: string;
  /** Start of the minute (epoch ms). */
  readonly minuteStartMs: number;
  /** Observed cost so far in that minute, 10^-12 USD (exact). */
  readonly observed: bigint;
  /** Baseline cost per minute (EWMA mean), 10^-12 USD, rounded. */
  readonly baseline: bigint;
  /** Alarm level that was exceeded, 10^-12 USD, rounded. */
  readonly threshold: bigint;
  readonly zScore: number;
}

interface RateState {
  minute: number;
  total: bigint;
  mean: number;
  variance: number;
  minutes: number;
  firedMinute: number;
}

export class SpendRateDetector {
  private readonly minuteMs: number;
  private readonly alpha: number;
  private readonly z: number;
  private readonly minRatio: number;
  private readonly minAbsolute: number;
  private readonly warmup: number;
  private readonly maxScopes: number;
  private readonly scopes = new Map<string, RateState>();
  /** Scopes not tracked because maxScopes was reached. */
  droppedScopes = 0;
  /** Minutes evaluated (closed) over all scopes: the denominator of the false-positive rate. */
  minutesEvaluated = 0;

  constructor(options: SpendRateOptions = {}) {
    this.minuteMs = options.minuteMs ?? 60_000;
    this.alpha = options.alpha ?? 0.1;
    this.z = options.z ?? 6;
    this.minRatio = options.minRatio ?? 3;
    this.minAbsolute = (options.minAbsoluteUsd ?? 0.01) * USD;
    this.warmup = options.warmupMinutes ?? 15;
    this.maxScopes = options.maxScopes ?? 100_000;
  }

  /** Adds cost at event time `timeMs`; returns a finding when this pushes the minute over the alarm level. */
  observe(scope: string, timeMs: number, subunits: bigint): SpendRateFinding | null {
    const minute = Math.floor(timeMs / this.minuteMs);
    let state = this.scopes.get(scope);
    if (state === undefined) {
      if (this.scopes.size >= this.maxScopes) {
        this.droppedScopes++;
        return null;
      }
      state = { minute, total: 0n, mean: 0, variance: 0, minutes: 0, firedMinute: -1 };
      this.scopes.set(scope, state);
    }
    if (minute < state.minute) return null; // late data for a closed minute: already folded
    if (minute > state.minute) this.roll(state, minute);
    state.total += subunits;
    return this.check(scope, state);
  }

  /** Closes minutes that ended before `nowMs` (scopes without traffic fold zeros). */
  advance(nowMs: number): void {
    const minute = Math.floor(nowMs / this.minuteMs);
    for (const state of this.scopes.values()) if (minute > state.minute) this.roll(state, minute);
  }

  baseline(scope: string): { mean: bigint; sigma: bigint; minutes: number } | undefined {
    const s = this.scopes.get(scope);
    if (s === undefined) return undefined;
    return { mean: BigInt(Math.round(s.mean)), sigma: BigInt(Math.round(Math.sqrt(s.variance))), minutes: s.minutes };
  }

  private alarmLevel(state: RateState): number {
    const sigma = Math.max(Math.sqrt(state.variance), 0.1 * state.mean);
    return Math.max(state.mean + this.z * sigma, this.minRatio * state.mean, state.mean + this.minAbsolute);
  }

  private check(scope: string, state: RateState): SpendRateFinding | null {
    if (state.minutes < this.warmup || state.firedMinute === state.minute) return null;
    const level = this.alarmLevel(state);
    const observed = Number(state.total);
    if (observed <= level) return null;
    state.firedMinute = state.minute;
    const sigma = Math.max(Math.sqrt(state.variance), 0.1 * state.mean);
    return {
      kind: 'spend_rate',
      scope,
      minuteStartMs: state.minute * this.minuteMs,
      observed: state.total,
      baseline: BigInt(Math.round(state.mean)),
      threshold: BigInt(Math.round(level)),
      zScore: sigma > 0 ? (observed - state.mean) / sigma : Number.POSITIVE_INFINITY,
    };
  }

  private roll(state: RateState, minute: number): void {
    // Fold the finished minute, then (at most 60) empty minutes, clipped at the alarm level.
    const gaps = Math.min(minute - state.minute - 1, 60);
    this.fold(state, Number(state.total));
    for (let i = 0; i < gaps; i++) this.fold(state, 0);
    state.minute = minute;
    state.total = 0n;
  }

  private fold(state: RateState, value: number): void {
    this.minutesEvaluated++;
    if (state.minutes === 0) {
      state.mean = value;
      state.variance = 0;
    } else {
      const x = state.minutes >= this.warmup ? Math.min(value, this.alarmLevel(state)) : value;
      const diff = x - state.mean;
      const incr = this.alpha * diff;
      state.mean += incr;
      state.variance = (1 - this.alpha) * (state.variance + diff * incr);
    }
    state.minutes++;
  }
}

export interface CommitShiftOptions {
  readonly minRequests?: number;
  readonly minRatio?: number;
  readonly minT?: number;
  readonly maxScopes?: number;
}

export interface CommitShiftFinding {
  readonly kind: 'commit_shift';
  readonly scope: string;
  readonly commit: string;
  readonly previousCommit: string;
  /** Mean cost per request, 10^-12 USD, rounded. */
  readonly baseline: bigint;
  readonly observed: bigint;
  readonly requests: number;
  readonly tStatistic: number;
}

interface CommitStats {
  commit: string;
  n: number;
  sum: number;
  sumSq: number;
  fired: boolean;
}

export class CommitShiftDetector {
  private readonly minRequests: number;
  private readonly minRatio: number;
  private readonly minT: number;
  private readonly maxScopes: number;
  /** Per scope: [previous, latest] commits by first appearance. */
  private readonly scopes = new Map<string, CommitStats[]>();
  droppedScopes = 0;

  constructor(options: CommitShiftOptions = {}) {
    this.minRequests = options.minRequests ?? 30;
    this.minRatio = options.minRatio ?? 1.5;
    this.minT = options.minT ?? 5;
    this.maxScopes = options.maxScopes ?? 100_000;
  }

  /**
   * Records `requests` requests of one commit costing `cost` in total (10^-12 USD) with
   * `sumSquaresUsd` = Σ (cost of each request in USD)². One request: sumSquares = (cost/10^12)².
   */
  observe(
    scope: string,
    commit: string,
    requests: number,
    cost: bigint,
    sumSquaresUsd: number,
  ): CommitShiftFinding | null {
    if (requests <= 0) return null;
    let commits = this.scopes.get(scope);
    if (commits === undefined) {
      if (this.scopes.size >= this.maxScopes) {
        this.droppedScopes++;
        return null;
      }
      commits = [];
      this.scopes.set(scope, commits);
    }
    let stats = commits.find((c) => c.commit === commit);
    if (stats === undefined) {
      stats = { commit, n: 0, sum: 0, sumSq: 0, fired: false };
      commits.push(stats);
      if (commits.length > 2) commits.shift();
    }
    stats.n += requests;
    stats.sum += Number(cost) / USD;
    stats.sumSq += sumSquaresUsd;
    const [previous, latest] = commits;
    if (previous === undefined || latest === undefined || latest !== stats || stats.fired) return null;
    if (previous.n < this.minRequests || latest.n < this.minRequests) return null;
    const m0 = previous.sum / previous.n;
    const m1 = latest.sum / latest.n;
    const v0 = Math.max(0, previous.sumSq / previous.n - m0 * m0) * (previous.n / (previous.n - 1));
    const v1 = Math.max(0, latest.sumSq / latest.n - m1 * m1) * (latest.n / (latest.n - 1));
    const se = Math.sqrt(v0 / previous.n + v1 / latest.n);
    const t = se > 0 ? (m1 - m0) / se : m1 > m0 ? Number.POSITIVE_INFINITY : 0;
    if (m0 <= 0 || m1 < this.minRatio * m0 || t < this.minT) return null;
    latest.fired = true;
    return {
      kind: 'commit_shift',
      scope,
      commit: latest.commit,
      previousCommit: previous.commit,
      baseline: BigInt(Math.round(m0 * USD)),
      observed: BigInt(Math.round(m1 * USD)),
      requests: latest.n,
      tStatistic: t,
    };
  }
}
