import type { Throttle } from '@costtrace/client';

/** The active throttles, matched against a request's dimensions. Pure; no I/O. */
export class ThrottleSet {
  private readonly byId = new Map<string, Throttle>();

  replace(throttles: readonly Throttle[]): void {
    this.byId.clear();
    for (const t of throttles) this.byId.set(t.id, t);
  }

  upsert(throttle: Throttle): void {
    this.byId.set(throttle.id, throttle);
  }

  release(id: string): void {
    this.byId.delete(id);
  }

  get size(): number {
    return this.byId.size;
  }

  all(): Throttle[] {
    return [...this.byId.values()];
  }

  /**
   * The throttle a request with these dimensions falls under, or undefined. Throttles past
   * their `until` no longer apply. With several, the one lifting last wins (Retry-After).
   */
  match(dimensions: Readonly<Record<string, string | undefined>>, now: number): Throttle | undefined {
    let best: Throttle | undefined;
    for (const t of this.byId.values()) {
      if (t.until !== undefined && t.until <= now) continue;
      let inScope = true;
      for (const key in t.scope) {
        if (dimensions[key] !== t.scope[key]) {
          inScope = false;
          break;
        }
      }
      if (!inScope) continue;
      if (best === undefined || (best.until !== undefined && (t.until === undefined || t.until > best.until))) best = t;
    }
    return best;
  }
}
