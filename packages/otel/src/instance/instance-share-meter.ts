/**
 * The instance-time share rule. The host is paid for every second it runs; costtrace charges each
 * second to the cost-bearing spans that were active during it, split equally: while n tracked
 * spans are open, each accrues 1/n of every elapsed second. A span alone on the host for 2 s is
 * charged 2 instance-seconds; two spans fully overlapping for 2 s are charged 1 s each; seconds
 * when no tracked span is open are idle and charged to nobody (`idleSeconds()` reports them).
 *
 * Implementation: a running integral I(t) = ∫ dt / n(t) over the time some span is open, kept as
 * an integer number of attoseconds (10^-18 s). A span's share is I(end) − I(start): O(1) per
 * start and end, no per-span bookkeeping besides its start mark. Each advance floors at 1 as,
 * so the share is exact whenever dt·10^9 is divisible by n, and otherwise low by < 1 as per
 * concurrency change — far below the 1 ns resolution prices are applied at.
 */
export class InstanceShareMeter {
  private integralAs = 0n;
  private idleNs = 0n;
  private active = 0;
  private lastNs: bigint;

  /** `nowNs`: a monotonic clock in nanoseconds; injectable for tests. */
  constructor(private readonly nowNs: () => bigint = () => process.hrtime.bigint()) {
    this.lastNs = nowNs();
  }

  private advance(): void {
    const now = this.nowNs();
    const dt = now - this.lastNs;
    this.lastNs = now;
    if (dt <= 0n) return;
    if (this.active === 0) this.idleNs += dt;
    else this.integralAs += (dt * 1_000_000_000n) / BigInt(this.active);
  }

  /** A tracked span starts; returns its start mark. */
  start(): bigint {
    this.advance();
    this.active += 1;
    return this.integralAs;
  }

  /** A tracked span ends; returns its share of instance time in attoseconds. */
  end(mark: bigint): bigint {
    this.advance();
    if (this.active > 0) this.active -= 1;
    return this.integralAs - mark;
  }

  get activeSpans(): number {
    return this.active;
  }

  /** Seconds during which no tracked span was open (charged to nobody). */
  idleSeconds(): number {
    this.advance();
    return Number(this.idleNs) / 1e9;
  }
}

/** Attoseconds per nanosecond: shares are attoseconds, prices are applied per nanosecond. */
export const ATTOSECONDS_PER_SECOND = 1_000_000_000_000_000_000n;
