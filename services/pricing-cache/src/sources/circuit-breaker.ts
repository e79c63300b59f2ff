export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * Consecutive-failure circuit breaker: `failureThreshold` failures in a row open it; after
 * `openMs` one trial call is let through (half-open); its success closes the circuit, its
 * failure opens it again.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private stateValue: CircuitState = 'closed';

  constructor(
    private readonly failureThreshold: number,
    private readonly openMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): CircuitState {
    if (this.stateValue === 'open' && this.now() - this.openedAt >= this.openMs) this.stateValue = 'half-open';
    return this.stateValue;
  }

  /** Whether a call may go ahead now. */
  allow(): boolean {
    return this.state !== 'open';
  }

  /** Milliseconds until an open circuit lets a trial through (0 when not open). */
  retryInMs(): number {
    return this.state === 'open' ? Math.max(0, this.openedAt + this.openMs - this.now()) : 0;
  }

  success(): void {
    this.failures = 0;
    this.stateValue = 'closed';
  }

  failure(): void {
    this.failures += 1;
    if (this.stateValue === 'half-open' || this.failures >= this.failureThreshold) {
      this.stateValue = 'open';
      this.openedAt = this.now();
    }
  }
}
