import { formatScaled, MONEY_SCALE, parseScaled } from '../money.js';
import { divideRoundHalfEven } from '../rounding.js';
import type { ReconcileDimension } from './reconcile.js';

/**
 * Compute beside the bill: the hours a cloud bill charges for GPU and other instances (FOCUS and
 * CUR lines of kind gpu_hours / instance_hours, per instance type) against the instance time the
 * spans carry (`instance_seconds`, priced as GPU and compute cost), per UTC day × cloud provider
 * × instance type.
 *
 *   drift = billed cost − traced compute cost = idle + rate (+ timing)
 *
 * - idle: billed hours no span accounts for (an instance running without traced work, or a
 *   workload without instrumentation), at the bill's own rate per hour: (H_B − H_T) × C_B ÷ H_B;
 * - rate: the rest, the bill's price per hour against costtrace's for the hours the spans carry;
 * - timing: a day the bill does not cover yet (all of its drift).
 */

/** Billed hours and cost of one day, cloud provider and instance type (gpu_hours + instance_hours). */
export interface BilledComputeInput {
  readonly day: number;
  readonly provider: string;
  /** The instance type. */
  readonly model: string;
  readonly currency: string;
  /** Exact decimal hours. */
  readonly hours: string;
  /** Exact decimal. */
  readonly billedCost: string;
  /** GPU instance hours among them (exact decimal). */
  readonly gpuHours: string;
}

/** What the spans carry of one day, cloud provider and instance type. */
export interface TracedComputeInput {
  readonly day: number;
  readonly provider: string;
  readonly model: string;
  readonly currency: string;
  readonly spans: number;
  /** Exact decimal seconds of instance time. */
  readonly instanceSeconds: string;
  /** Exact decimal: GPU plus compute cost of the spans. */
  readonly cost: string;
}

export interface ComputeRow {
  readonly dimensions: Readonly<Partial<Record<ReconcileDimension, string>>>;
  readonly currency: string;
  /** Exact decimals. */
  readonly billedHours: string;
  readonly billedGpuHours: string;
  readonly tracedHours: string;
  readonly billedCost: string | undefined;
  readonly tracedCost: string;
  readonly spans: number;
  readonly drift: string;
  readonly idle: string;
  readonly rate: string;
  readonly timing: string;
}

interface Fine {
  day: number;
  provider: string;
  model: string;
  currency: string;
  billedHours: bigint;
  billedGpuHours: bigint;
  billedCost: bigint;
  billedLines: number;
  tracedSeconds: bigint;
  tracedCost: bigint;
  spans: number;
}

/** Compute rows grouped by `groupBy` (project is not a compute dimension: ignored). */
export function reconcileCompute(
  billed: readonly BilledComputeInput[],
  traced: readonly TracedComputeInput[],
  groupBy: readonly ReconcileDimension[],
  billCovers: (provider: string, day: number) => boolean,
): ComputeRow[] {
  const fine = new Map<string, Fine>();
  const at = (day: number, provider: string, model: string, currency: string): Fine => {
    const key = `${day}\u0000${provider}\u0000${model}\u0000${currency}`;
    let f = fine.get(key);
    if (f === undefined) {
      f = {
        day,
        provider,
        model,
        currency,
        billedHours: 0n,
        billedGpuHours: 0n,
        billedCost: 0n,
        billedLines: 0,
        tracedSeconds: 0n,
        tracedCost: 0n,
        spans: 0,
      };
      fine.set(key, f);
    }
    return f;
  };
  for (const b of billed) {
    const f = at(b.day, b.provider, b.model, b.currency);
    f.billedHours += parseScaled(b.hours, MONEY_SCALE);
    f.billedGpuHours += parseScaled(b.gpuHours, MONEY_SCALE);
    f.billedCost += parseScaled(b.billedCost, MONEY_SCALE);
    f.billedLines++;
  }
  for (const t of traced) {
    const f = at(t.day, t.provider, t.model, t.currency);
    f.tracedSeconds += parseScaled(t.instanceSeconds, MONEY_SCALE);
    f.tracedCost += parseScaled(t.cost, MONEY_SCALE);
    f.spans += t.spans;
  }
  interface Acc {
    dimensions: Partial<Record<ReconcileDimension, string>>;
    currency: string;
    billedHours: bigint;
    billedGpuHours: bigint;
    tracedHours: bigint;
    billedCost: bigint;
    covered: number;
    tracedCost: bigint;
    spans: number;
    drift: bigint;
    idle: bigint;
    rate: bigint;
    timing: bigint;
  }
  const groups = new Map<string, Acc>();
  for (const f of fine.values()) {
    const tracedHours = divideRoundHalfEven(f.tracedSeconds, 3600n);
    const covered = f.billedLines > 0 || billCovers(f.provider, f.day);
    let drift: bigint;
    let idle = 0n;
    let rate = 0n;
    let timing = 0n;
    if (!covered) {
      drift = -f.tracedCost;
      timing = drift;
    } else {
      drift = f.billedCost - f.tracedCost;
      // Idle hours at the bill's own rate (hours are scaled by 10^12: the product is divided back).
      idle =
        f.billedHours === 0n ? 0n : divideRoundHalfEven((f.billedHours - tracedHours) * f.billedCost, f.billedHours);
      rate = drift - idle;
    }
    const dimensions: Partial<Record<ReconcileDimension, string>> = {};
    for (const d of groupBy) {
      if (d === 'day') dimensions.day = String(f.day);
      else if (d === 'provider') dimensions.provider = f.provider;
      else if (d === 'model') dimensions.model = f.model;
    }
    const key = JSON.stringify([groupBy.map((d) => dimensions[d] ?? ''), f.currency]);
    let g = groups.get(key);
    if (g === undefined) {
      g = {
        dimensions,
        currency: f.currency,
        billedHours: 0n,
        billedGpuHours: 0n,
        tracedHours: 0n,
        billedCost: 0n,
        covered: 0,
        tracedCost: 0n,
        spans: 0,
        drift: 0n,
        idle: 0n,
        rate: 0n,
        timing: 0n,
      };
      groups.set(key, g);
    }
    g.billedHours += f.billedHours;
    g.billedGpuHours += f.billedGpuHours;
    g.tracedHours += tracedHours;
    g.billedCost += f.billedCost;
    if (covered) g.covered++;
    g.tracedCost += f.tracedCost;
    g.spans += f.spans;
    g.drift += drift;
    g.idle += idle;
    g.rate += rate;
    g.timing += timing;
  }
  const text = (v: bigint): string => formatScaled(v, MONEY_SCALE);
  return [...groups.values()]
    .sort((a, b) => {
      for (const d of groupBy) {
        const x = a.dimensions[d] ?? '';
        const y = b.dimensions[d] ?? '';
        if (x !== y) return d === 'day' ? Number(x) - Number(y) : x < y ? -1 : 1;
      }
      return a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0;
    })
    .map((g) => ({
      dimensions: g.dimensions,
      currency: g.currency,
      billedHours: text(g.billedHours),
      billedGpuHours: text(g.billedGpuHours),
      tracedHours: text(g.tracedHours),
      billedCost: g.covered > 0 ? text(g.billedCost) : undefined,
      tracedCost: text(g.tracedCost),
      spans: g.spans,
      drift: text(g.drift),
      idle: text(g.idle),
      rate: text(g.rate),
      timing: text(g.timing),
    }));
}
