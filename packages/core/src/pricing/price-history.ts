import { priceId } from './price.js';
import type { Price } from './price.js';
import { priceSeriesKey } from './price-snapshot.js';

/**
 * Keeps price history for sources that publish only current prices (no effective dates, e.g.
 * a LiteLLM map). For each key of `next`:
 * - an amount equal to the previous latest keeps the previous versions unchanged;
 * - a changed amount whose effective date is not later than the previous latest is re-dated to
 *   `now` (its id follows) and appended to the previous versions, so usage before `now` keeps
 *   the old price;
 * - a price with a later effective date is taken as the source gives it.
 * Keys the source no longer lists are dropped. Pure.
 */
export function mergeHistory(previous: readonly Price[], next: readonly Price[], now: number): Price[] {
  const before = new Map<string, Price[]>();
  for (const p of previous) {
    const key = priceSeriesKey(p);
    const list = before.get(key);
    if (list === undefined) before.set(key, [p]);
    else list.push(p);
  }
  for (const list of before.values()) list.sort((a, b) => a.effectiveFrom - b.effectiveFrom);
  const after = new Map<string, Price[]>();
  for (const p of next) {
    const key = priceSeriesKey(p);
    const list = after.get(key);
    if (list === undefined) after.set(key, [p]);
    else list.push(p);
  }
  const out: Price[] = [];
  for (const [key, incoming] of after) {
    const old = before.get(key);
    incoming.sort((a, b) => a.effectiveFrom - b.effectiveFrom);
    const latestNew = incoming[incoming.length - 1] as Price;
    const latestOld = old?.[old.length - 1];
    if (old === undefined || latestOld === undefined || incoming.length > 1) {
      out.push(...incoming);
    } else if (latestNew.amount.equals(latestOld.amount) && latestNew.unit === latestOld.unit) {
      out.push(...old);
    } else if (latestNew.effectiveFrom <= latestOld.effectiveFrom) {
      const redated = { ...latestNew, effectiveFrom: Math.max(now, latestOld.effectiveFrom + 1) };
      out.push(...old, { ...redated, id: priceId(redated) });
    } else {
      out.push(...old, latestNew);
    }
  }
  return out;
}
