import type { Attributes, Span } from '@opentelemetry/api';
import { GpuAttr } from '@costtrace/core';
import { invalidOption } from '../sdk-error.js';

export interface GpuDescriptor {
  /** GPU model as priced, e.g. "h100-80gb", "a100-40gb", "l4", "t4" (lower-cased; as pricing-cache names them). */
  readonly gpuType: string;
  /** Devices used (integer ≥ 1). Default 1. */
  readonly count?: number | undefined;
  /**
   * Fraction of each device held, in (0, 1]: a MIG slice (`migShare('3g.40gb')` = 3/7) or
   * time-sliced sharing (1/N). Default 1.
   */
  readonly share?: number | undefined;
  /** Who bills the GPU ("aws", "gcp", "internal"…); default the resource's `cloud.provider`. */
  readonly provider?: string | undefined;
  /** "on_demand" (default), "spot", "reserved", "committed" or "internal" (owned hardware). */
  readonly pricingModel?: 'on_demand' | 'spot' | 'reserved' | 'committed' | 'internal' | undefined;
}

export interface GpuUsage extends GpuDescriptor {
  /** Occupied wall-clock seconds (per device; count and share are applied on top). */
  readonly seconds: number;
  /** How the seconds were obtained; default "manual". */
  readonly source?: 'timer' | 'sampler' | 'manual' | undefined;
}

function check(gpu: GpuDescriptor, where: string): { count: number; share: number } {
  if (typeof gpu.gpuType !== 'string' || gpu.gpuType.trim() === '') {
    throw invalidOption(`${where}.gpuType`, 'must be a non-empty string', 'e.g. "h100-80gb"');
  }
  const count = gpu.count ?? 1;
  if (!Number.isInteger(count) || count < 1) {
    throw invalidOption(`${where}.count`, `is ${count}`, 'use an integer ≥ 1 (devices used)');
  }
  const share = gpu.share ?? 1;
  if (!(share > 0 && share <= 1)) {
    throw invalidOption(`${where}.share`, `is ${share}`, 'use a fraction in (0, 1], e.g. migShare("1g.10gb")');
  }
  return { count, share };
}

/** Rounds GPU-seconds to the nanosecond, the resolution prices are applied at. */
function nanoRound(seconds: number): number {
  return Math.round(seconds * 1e9) / 1e9;
}

/**
 * Records GPU usage on a span: `costtrace.gpu.seconds` += seconds × count × share, plus type,
 * count, share and provider. Calls on the same span add up (e.g. prefill and decode phases).
 * Throws CostSdkError INVALID_OPTION on a bad descriptor (a programming error), never on I/O.
 */
export function recordGpuUsage(span: Span, usage: GpuUsage): void {
  const { count, share } = check(usage, 'recordGpuUsage');
  if (!Number.isFinite(usage.seconds) || usage.seconds < 0) {
    throw invalidOption('recordGpuUsage.seconds', `is ${usage.seconds}`, 'use a finite number of seconds ≥ 0');
  }
  const previous = (span as Partial<{ attributes: Attributes }>).attributes?.[GpuAttr.seconds];
  const before = typeof previous === 'number' ? previous : 0;
  const attrs: Attributes = {
    [GpuAttr.type]: usage.gpuType.trim().toLowerCase(),
    [GpuAttr.count]: count,
    [GpuAttr.share]: share,
    [GpuAttr.seconds]: nanoRound(before + usage.seconds * count * share),
    [GpuAttr.source]: usage.source ?? 'manual',
  };
  if (usage.provider !== undefined) attrs[GpuAttr.provider] = usage.provider;
  if (usage.pricingModel !== undefined) attrs[GpuAttr.pricingModel] = usage.pricingModel;
  span.setAttributes(attrs);
}

/** Measures the occupied wall time of a GPU block; a source of measured seconds may replace it. */
export interface GpuTimer {
  /** Monotonic clock in nanoseconds; default process.hrtime.bigint. */
  readonly nowNs?: (() => bigint) | undefined;
}

/**
 * Runs `fn` holding the given GPUs and records the wall time it took (resolved or rejected) as
 * GPU usage on `span`, with `costtrace.gpu.source=timer`. Overlapping blocks on one span add up:
 * each block occupies its own GPUs.
 */
export async function withGpu<T>(span: Span, gpu: GpuDescriptor & GpuTimer, fn: () => Promise<T> | T): Promise<T> {
  check(gpu, 'withGpu');
  const now = gpu.nowNs ?? (() => process.hrtime.bigint());
  const started = now();
  try {
    return await fn();
  } finally {
    const seconds = Number(now() - started) / 1e9;
    recordGpuUsage(span, { ...gpu, seconds, source: 'timer' });
  }
}

/** Compute slices per GPU by MIG profile family (A100, H100, H200, B200: 7; A30: 4). */
const SLICES_BY_PROFILE_MEMORY: Readonly<Record<string, number>> = { a30: 4 };

/**
 * The share of a GPU a MIG profile holds, from its compute-slice count: "1g.10gb" → 1/7,
 * "3g.40gb" → 3/7, "7g.80gb" → 1. Devices with 4 slices (A30): pass `slices: 4`.
 * "1c.3g.40gb"-style compute-instance profiles count their compute slices.
 */
export function migShare(profile: string, slices = 7): number {
  const match = /^(?:(\d+)c\.)?(\d+)g\.\d+gb(?:\+me)?$/i.exec(profile.trim());
  if (match === null) {
    throw invalidOption('migShare.profile', `is ${JSON.stringify(profile)}`, 'use a MIG profile like "3g.40gb"');
  }
  if (!Number.isInteger(slices) || slices < 1) {
    throw invalidOption('migShare.slices', `is ${slices}`, 'use 7 (A100/H100/H200) or 4 (A30)');
  }
  const compute = Number(match[1] ?? match[2]);
  return Math.min(1, compute / slices);
}

/** Compute slices of a GPU model's MIG geometry (7 unless listed, e.g. A30: 4). */
export function migSlicesFor(gpuName: string): number {
  const lower = gpuName.toLowerCase();
  for (const [needle, slices] of Object.entries(SLICES_BY_PROFILE_MEMORY)) if (lower.includes(needle)) return slices;
  return 7;
}
